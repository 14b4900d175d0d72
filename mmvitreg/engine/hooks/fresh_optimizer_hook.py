"""Start a resumed second stage with a fresh optimizer, as a release did.

The released DeiT-B patch-diversification refine stage
(ChengyueGongR/PatchVisionTransformer ``deit/main.py``, resume branch)
loads the model and its EMA but has ``optimizer.load_state_dict`` and
``lr_scheduler.load_state_dict`` commented out: AdamW's moments restart
from zero at epoch 300. mmengine's resume restores the optimizer whenever
the checkpoint holds one, so this hook removes it from the checkpoint
being resumed, only at the hand-off epoch: a refine run interrupted later
(its own checkpoints, epoch > ``at_epoch``) resumes its optimizer as usual.
"""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FreshOptimizerHook(Hook):
    """Drop the optimizer state of a checkpoint written at ``at_epoch``.

    Args:
        at_epoch (int): The epoch of the stage-1 checkpoint the stage-2
            config resumes (``meta['epoch']``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, at_epoch: int) -> None:
        if at_epoch < 1:
            raise ValueError(f'FreshOptimizerHook: at_epoch must be >= 1, '
                             f'got {at_epoch}')
        self.at_epoch = at_epoch

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        epoch = (checkpoint.get('meta') or {}).get('epoch')
        if epoch == self.at_epoch and checkpoint.pop('optimizer',
                                                     None) is not None:
            if runner is not None:
                runner.logger.info(
                    f'FreshOptimizerHook: optimizer state of the epoch '
                    f'{epoch} checkpoint not restored (fresh optimizer, as '
                    'the released refine stage)')
