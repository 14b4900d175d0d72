"""Test-only hook: a training process stops after a chosen iteration or
epoch (after its checkpoint: lowest priority) and sleeps until killed,
having written ``<marker_dir>/paused_rank<R>`` holding its pid.

Imported by the tests' configs (``custom_imports``, this folder on
``PYTHONPATH``); never part of the package. Lets a test act on a live run
at a known point (start a second run, kill the launcher) without timing.
"""
import os
import os.path as osp
import time
from typing import Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class PauseHook(Hook):
    """Sleep ``seconds`` after iteration/epoch ``after_iter``/``after_epoch``
    (counted from 1, as checkpoint names)."""

    priority = 'LOWEST'

    def __init__(self, marker_dir: str, after_iter: Optional[int] = None,
                 after_epoch: Optional[int] = None,
                 seconds: float = 600.) -> None:
        self.marker_dir = marker_dir
        self.after_iter = after_iter
        self.after_epoch = after_epoch
        self.seconds = seconds

    def _pause(self, runner) -> None:
        marker = osp.join(self.marker_dir, f'paused_rank{runner.rank}')
        with open(marker + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.replace(marker + '.tmp', marker)
        time.sleep(self.seconds)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.after_iter:
            self._pause(runner)

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.after_epoch:
            self._pause(runner)
