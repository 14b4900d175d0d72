"""Model EMA under FSDP: mmpretrain's ``EMAHook`` on each rank's slices.

mmpretrain 1.2.0's ``EMAHook`` (what ``type='EMAHook'`` resolves to in the
pretraining configs; mmengine's plus ``evaluate_on_ema/origin``)
deep-copies ``runner.model.module`` into an
``ExponentialMovingAverage``. Under FSDP that module holds nested FSDP units
and each rank only a slice of every parameter, and its checkpoint entries
are the local slices (rank 0's only, with ``rank0_only`` full state
dicts): the LV-ViT recipe's EMA (``--model-ema``, decay 0.99992) would not
survive a resume.

The average itself is element-wise,

    ema_t = (1 - momentum) * ema_{t-1} + momentum * w_t,

so it can run on the slices. :class:`ShardedEMAHook` (same arguments as
``EMAHook``) keeps the EMA of each rank's slices and, at the checkpoint
boundary, converts to and from the format ``EMAHook`` writes for an
unsharded model: ``state_dict`` holds the *EMA* weights (what
``tools/test.py`` and fine-tuning load) and ``ema_state_dict`` holds the
trained weights under ``module.<name>`` plus ``steps``. A checkpoint of an
FSDP run with EMA is therefore interchangeable with a DDP run's.

* save (every rank, inside the checkpoint callback): the EMA slices are
  copied into the model, the full state dict is gathered (FSDP's
  collective), the model's own slices are put back;
* resume (every rank reads the whole file): the EMA weights are loaded
  into the model and copied into the EMA slices, and the trained weights
  are handed to the strategy, which loads them next;
* validation swaps the slices in place (``copy_``), as ``EMAHook`` does.

mmengine's ``FlexibleRunner`` loads the checkpoint *before* calling
``before_run``, so the EMA is built at whichever comes first.

Without FSDP it is mmpretrain's ``EMAHook``.
"""
from typing import Optional

import torch
from mmengine.registry import HOOKS, MODELS
from mmpretrain.engine.hooks import EMAHook
from torch import nn

from mmvitreg.engine.runner.fsdp import is_fsdp

PREFIX = 'module.'


class _Slices(nn.Module):
    """The FSDP root's parameters (each rank's slices, the very
    ``nn.Parameter`` objects the optimizer updates) as one module, so that
    mmengine's ``ExponentialMovingAverage`` can average them."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.params = nn.ParameterList(list(model.parameters()))


@HOOKS.register_module()
class ShardedEMAHook(EMAHook):
    """``EMAHook`` that also works on FSDP-sharded models (module doc)."""

    _fsdp: Optional[nn.Module] = None
    _built = False

    def before_run(self, runner) -> None:
        if self._built:  # built by an earlier after_load_checkpoint
            return
        self._built = True
        self._fsdp = runner.model if is_fsdp(runner.model) else None
        if self._fsdp is None:
            return super().before_run(runner)
        self.src_model = _Slices(self._fsdp)
        self.ema_model = MODELS.build(
            self.ema_cfg, default_args=dict(model=self.src_model))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._fsdp is None:
            return super().before_save_checkpoint(runner, checkpoint)
        self._swap_ema_parameters()
        try:
            ema_weights = self._fsdp.state_dict()  # gathered, rank 0
        finally:
            self._swap_ema_parameters()
        trained = checkpoint.get('state_dict', {})
        checkpoint['ema_state_dict'] = {
            PREFIX + key: value for key, value in trained.items()}
        checkpoint['ema_state_dict']['steps'] = self.ema_model.steps.clone()
        checkpoint['state_dict'] = ema_weights

    @torch.no_grad()
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.before_run(runner)
        if self._fsdp is None:
            return super().after_load_checkpoint(runner, checkpoint)
        ema_state = checkpoint.get('ema_state_dict')
        self.load_ema_from_ckpt = ema_state is not None
        resuming = ema_state is not None and runner._resume
        # the EMA starts from the checkpoint's state_dict: the EMA weights
        # when it has them (the model then starts from them too unless
        # resuming, as mmpretrain's hook), the loaded weights otherwise
        self._fsdp.load_state_dict(checkpoint['state_dict'])
        for ema, weight in zip(self.ema_model.module.parameters(),
                               self.src_model.parameters(), strict=True):
            ema.copy_(weight)
        if resuming:
            self.ema_model.steps.copy_(ema_state['steps'])
            checkpoint['state_dict'] = {
                key[len(PREFIX):]: value
                for key, value in ema_state.items()
                if key.startswith(PREFIX)}
