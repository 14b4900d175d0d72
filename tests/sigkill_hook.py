"""Test-only hook: the training process kills itself with SIGKILL.

Imported by the kill tests' configs (``custom_imports``, with this folder
on ``PYTHONPATH``); never part of the package. ``after_iter=k`` kills after
iteration ``k`` (after its checkpoint, if one is due: lowest priority);
``before_replace='iter_4.pth'`` kills when the checkpoint writer is about to
rename a finished temporary file onto that name, and ``after_replace``
right after that rename (before ``last_checkpoint`` is rewritten).
"""
import os
import os.path as osp
import signal
from typing import Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

import mmvitreg.engine.hooks.atomic_checkpoint_hook as writer


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class SigkillHook(Hook):
    """Kill this process with SIGKILL at a chosen point of training."""

    priority = 'LOWEST'

    def __init__(self, after_iter: Optional[int] = None,
                 before_replace: Optional[str] = None,
                 after_replace: Optional[str] = None) -> None:
        self.after_iter = after_iter
        self.before_replace = before_replace
        self.after_replace = after_replace

    def before_run(self, runner) -> None:
        real = writer.os.replace

        def replace(src: str, dst: str) -> None:
            name = osp.basename(dst)
            if name == self.before_replace:
                _die()
            real(src, dst)
            if name == self.after_replace:
                _die()

        if self.before_replace or self.after_replace:
            writer.os = _OsWithReplace(replace)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.after_iter is not None and runner.iter + 1 == \
                self.after_iter:
            _die()


class _OsWithReplace:
    """The ``os`` module with ``replace`` swapped (seen by the writer
    module only)."""

    def __init__(self, replace) -> None:
        self.replace = replace

    def __getattr__(self, name: str):
        return getattr(os, name)
