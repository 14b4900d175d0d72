"""Stop (or skip) non-finite training steps instead of training on NaN.

Without a guard, a diverged run keeps going: the loss is NaN from then on,
every checkpoint holds NaN weights and the run exits 0.
:class:`DivergenceGuardHook` checks, every iteration, each loss term the
model returns (keys containing ``'loss'``) and the total gradient norm.

mmengine has no hook point between ``backward`` and ``optimizer.step``
(``OptimWrapper.update_params`` does both), so the hook uses torch's own
ones, which every optim wrapper (``OptimWrapper``, ``AmpOptimWrapper``,
gradient accumulation, ``OptimWrapperDict``) goes through unchanged:

* a forward hook on the model reads the loss dict of ``mode='loss'``
  forwards (before backward);
* an optimizer step pre-hook computes the gradient norm and, when it or a
  loss term is non-finite, sets every gradient to ``None``: torch's (and
  mmpretrain's) optimizers skip parameters without a gradient, so the step
  changes neither the weights nor the optimizer state (no momentum, no
  weight decay). Under AMP, ``GradScaler`` already skips steps with inf
  gradients (and lowers the scale): that is normal AMP behaviour and is not
  counted; a non-finite *loss* is.

Then, in ``after_train_iter`` (before the checkpoint and logger hooks):
``action='stop'`` raises :class:`NonFiniteError` naming the term(s) and the
iteration (non-zero exit); ``action='skip'`` logs a warning and counts, and
raises once more than ``max_skips`` steps were skipped. Independently of the
action, a checkpoint whose weights hold NaN/inf is never written
(``before_save_checkpoint`` raises, naming the tensors). The gradient norm
is logged as ``grad_norm`` each logging interval (unless ``clip_grad``
already logs it), and the skip count as ``skipped_steps``. Under FSDP
each rank holds slices of the gradients: the norm is then the square root
of the squared local norms summed over the ranks (the whole gradient's).
"""
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.registry import HOOKS

from mmvitreg.engine.runner.fsdp import is_fsdp
from mmvitreg.utils.finite import (
    NonFiniteError,
    describe_keys,
    is_finite,
    nonfinite_tensors,
)

ACTIONS = ('stop', 'skip')


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Check loss terms and gradient norm every iteration.

    Args:
        action (str): ``'stop'``: raise at the first non-finite value;
            ``'skip'``: skip that optimizer step, up to ``max_skips`` times.
            Defaults to ``'stop'``.
        max_skips (int): with ``action='skip'``, the number of skipped steps
            tolerated over the run; one more stops it. Defaults to 10.
        log_grad_norm (bool): put the gradient norm into the message hub
            (``train/grad_norm``) when the optim wrapper does not clip (with
            ``clip_grad`` mmengine logs the pre-clip norm itself).
            Defaults to True.
    """

    priority = 'ABOVE_NORMAL'  # before CheckpointHook and LoggerHook

    def __init__(self, action: str = 'stop', max_skips: int = 10,
                 log_grad_norm: bool = True) -> None:
        if action not in ACTIONS:
            raise ValueError(f'DivergenceGuardHook: action must be one of '
                             f'{ACTIONS}, got {action!r}')
        if max_skips < 0:
            raise ValueError(f'DivergenceGuardHook: max_skips must be >= 0, '
                             f'got {max_skips}')
        self.action = action
        self.max_skips = max_skips
        self.log_grad_norm = log_grad_norm
        self.skipped = 0
        self._bad_terms: Dict[str, float] = {}
        self._grad_norm: Optional[float] = None
        self._step_skipped = False
        self._sharded = False
        self._handles: List = []

    # -- torch hooks -------------------------------------------------------
    # (host-side checks: run eagerly when cfg.compile compiles train_step)
    @torch.compiler.disable
    def _check_losses(self, module, args, kwargs, output) -> None:
        """Forward hook: remember every non-finite loss term."""
        if kwargs.get('mode') != 'loss' or not isinstance(output, dict):
            return
        for key, value in output.items():
            if 'loss' in key and not is_finite(value):
                self._bad_terms[key] = _as_float(value)

    @torch.compiler.disable
    def _check_step(self, optimizer, args, kwargs) -> None:
        """Step pre-hook: skip the update on a non-finite loss or grad."""
        grads = [p.grad for group in optimizer.param_groups
                 for p in group['params'] if p.grad is not None]
        norm = (torch.nn.utils.get_total_norm(grads) if grads
                else torch.zeros(()))
        if self._sharded and get_world_size() > 1:  # slices -> whole
            squares = norm.pow(2).reshape(1)
            all_reduce(squares, op='sum')
            norm = squares.sqrt()[0]
        bad = torch.tensor(float(bool(self._bad_terms)
                                 or not is_finite(norm)), device=norm.device)
        if get_world_size() > 1:  # every rank skips, or none does
            all_reduce(bad, op='max')
        self._grad_norm = float(norm)
        if bool(bad):
            for group in optimizer.param_groups:
                for param in group['params']:
                    param.grad = None
            self._step_skipped = True

    # -- mmengine hook points ----------------------------------------------
    def before_train(self, runner) -> None:
        self._sharded = is_fsdp(runner.model)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._handles.append(model.register_forward_hook(
            self._check_losses, with_kwargs=True))
        wrapper = runner.optim_wrapper
        wrappers = (wrapper.optim_wrappers.values() if isinstance(
            wrapper, OptimWrapperDict) else [wrapper])
        for each in wrappers:
            self._handles.append(
                each.optimizer.register_step_pre_hook(self._check_step))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        problems = [f'loss term {k!r} = {v}'
                    for k, v in self._bad_terms.items()]
        if self._grad_norm is not None:
            if not is_finite(self._grad_norm):
                problems.append(f'gradient norm = {self._grad_norm}')
            if self.log_grad_norm and not getattr(
                    runner.optim_wrapper, 'clip_grad_kwargs', None):
                runner.message_hub.update_scalar('train/grad_norm',
                                                 self._grad_norm)
        skipped = self._step_skipped
        self._bad_terms, self._grad_norm = {}, None
        self._step_skipped = False
        if self.action == 'skip':
            runner.message_hub.update_scalar('train/skipped_steps',
                                             self.skipped + bool(problems))
        if not problems:
            return
        where = (f'Non-finite {"; ".join(problems)} at '
                 f'{position(runner.iter + 1, runner)}')
        update = ('the optimizer step was skipped' if skipped else
                  'no optimizer step was taken (AMP skipped it, or '
                  'gradients are accumulated)')
        if self.action == 'stop':
            raise NonFiniteError(
                f'{where}; {update}. Training stopped (DivergenceGuardHook '
                "action='stop'): lower the lr, clip gradients, or set "
                "default_hooks.divergence.action='skip'.")
        self.skipped += 1
        if self.skipped > self.max_skips:
            raise NonFiniteError(
                f'{where}; {update}. Training stopped: {self.skipped} '
                f'non-finite steps skipped, more than max_skips='
                f'{self.max_skips} (DivergenceGuardHook).')
        runner.logger.warning(
            f'{where}; {update} (skipped step {self.skipped} of at most '
            f'{self.max_skips}).')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = nonfinite_tensors(checkpoint.get('state_dict', {}))
        if bad:
            # mmengine's meta 'iter' is the N of iter_N.pth (after_train_iter
            # saves before runner.iter counts the iteration, after_train_epoch
            # after it): the same N as the message above for that iteration.
            done = checkpoint.get('meta', {}).get('iter', runner.iter + 1)
            raise NonFiniteError(
                f'Refusing to save a checkpoint at {position(done, runner)}: '
                f'{len(bad)} tensors hold NaN/inf: {describe_keys(bad)}')
        checkpoint.setdefault('meta', {})['divergence_skipped'] = self.skipped

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.skipped = checkpoint.get('meta', {}).get('divergence_skipped', 0)

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self.action == 'skip':
            runner.logger.info(
                f'DivergenceGuardHook: {self.skipped} non-finite steps '
                f'skipped in this run (max_skips={self.max_skips}).')


def position(iteration: int, runner) -> str:
    """``'iteration N (epoch E)'`` numbered as checkpoint files are: N-th
    iteration (``iter_N.pth``) of the E-th epoch (``epoch_E.pth``), both
    from 1. ``runner.epoch`` counts finished epochs until the end of
    ``after_train_epoch``, so the epoch in progress is ``epoch + 1``."""
    return f'iteration {iteration} (epoch {runner.epoch + 1})'


def _as_float(value) -> float:
    """A loss term (tensor or list of tensors) as one float for messages."""
    if isinstance(value, (list, tuple)):
        return float(sum(_as_float(v) for v in value))
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean())
    return float(value)
