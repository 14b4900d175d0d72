"""Resume a finished run under a longer schedule (a second training stage).

Released two-stage recipes (the DiversePatch Swin-L UperNet: 160k, then
``--resume-from`` with 200k iterations; its DeiT-B: 300 epochs, then resume
with ``--epochs 400``) continue a checkpoint under a *new* schedule: the
old toolkits recomputed the learning rate from the iteration count and the
new config. mmengine's resume instead restores each scheduler's state
(``begin``, ``end``, ``T_max``, ...) from the checkpoint, so a stage-2
config's schedule would be silently replaced by stage 1's.
"""
import copy
import warnings
from typing import Dict, List, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.optim.scheduler import _ParamScheduler
from mmengine.registry import HOOKS


def _proxy_optimizer(
        groups: List[dict],
        names: List[str]) -> Tuple[torch.optim.Optimizer, List[int]]:
    """An SGD over one dummy parameter per distinct set of initial values
    (``initial_<name>``) of ``groups``, and each group's proxy index.

    Schedulers set every group from its own initial value, so groups with
    equal initial values follow equal curves: replaying on the distinct
    ones is exact and costs steps x distinct values, not x groups."""
    keys: Dict[tuple, int] = {}
    index = []
    for group in groups:
        key = tuple(group[f'initial_{n}'] for n in names)
        index.append(keys.setdefault(key, len(keys)))
    proxy_groups = []
    for key in keys:
        group = dict(params=[torch.zeros(1, requires_grad=True)])
        for name, value in zip(names, key, strict=True):
            group[name] = value
            group[f'initial_{name}'] = value
        proxy_groups.append(group)
    optimizer = torch.optim.SGD(proxy_groups, lr=0.0)
    for group, key in zip(optimizer.param_groups, keys, strict=True):
        # SGD's defaults overwrite
        for name, value in zip(names, key, strict=True):
            group[name] = value
    return optimizer, index


def fast_forward(schedulers: List[_ParamScheduler], iters: int,
                 epochs: int) -> None:
    """Put freshly built ``schedulers`` (and their optimizer's values) where
    they would be after ``iters`` training iterations and ``epochs``
    epochs: iteration-based schedulers are replayed ``iters`` times, epoch-
    based ones ``epochs`` times (exact when each scheduled value is driven
    by schedulers of one kind, as in every config of this suite)."""
    if not schedulers:
        return
    optimizer = schedulers[0].optimizer
    if any(s.optimizer is not optimizer for s in schedulers):
        raise ValueError('ContinueScheduleHook: the schedulers must share '
                         'one optimizer (one optim_wrapper)')
    names = sorted({s.param_name for s in schedulers})
    groups = optimizer.param_groups
    missing = [n for n in names if f'initial_{n}' not in groups[0]]
    if missing:
        raise KeyError(f'ContinueScheduleHook: optimizer groups lack '
                       f'initial_{missing[0]}')
    proxy, index = _proxy_optimizer(groups, names)
    replays = []
    for sched in schedulers:
        twin = copy.copy(sched)
        twin.optimizer = proxy
        twin.base_values = [g[f'initial_{sched.param_name}']
                            for g in proxy.param_groups]
        twin.last_step, twin._global_step = -1, -1
        replays.append(twin)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # step-order checks: no real step
        for twin in replays:  # what construction does
            twin.step()
        for twin in replays:
            for _ in range(epochs if twin.by_epoch else iters):
                twin.step()
    for group, i in zip(groups, index, strict=True):
        for name in names:
            group[name] = proxy.param_groups[i][name]
    for sched, twin in zip(schedulers, replays, strict=True):
        sched.last_step = twin.last_step
        sched._global_step = twin._global_step
        sched._last_value = [g[sched.param_name] for g in groups]


@HOOKS.register_module()
class ContinueScheduleHook(Hook):
    """On resume, keep *this* config's parameter schedules and move them to
    the resumed iteration/epoch, instead of restoring the checkpoint's.

    Model, optimizer state (AdamW moments), iteration counter, message hub
    and EMA weights are resumed as usual; only ``param_schedulers`` from the
    checkpoint are discarded (``after_load_checkpoint``) and the config's
    are replayed up to the resumed step (``before_train``), so the lr is
    the one the longer schedule gives at that step (e.g. poly over 200k at
    iteration 160k: 0.2 x base lr), as the released two-stage runs had it.
    Without a resume (or with ``load_from`` only) it does nothing.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._discarded = False

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if checkpoint.pop('param_schedulers', None) is not None:
            self._discarded = True

    def before_train(self, runner) -> None:
        if not self._discarded or runner.param_schedulers is None:
            return
        schedulers = runner.param_schedulers
        if isinstance(schedulers, dict):
            raise ValueError('ContinueScheduleHook: one optim_wrapper only '
                             '(got a dict of schedulers)')
        fast_forward(schedulers, runner.iter, runner.epoch)
        runner.logger.info(
            f'ContinueScheduleHook: schedules of this config after '
            f'{runner.iter} iterations ({runner.epoch} whole epochs); lr now '
            f'{schedulers[0].optimizer.param_groups[0].get("lr")}')
