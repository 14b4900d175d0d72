"""The command-line tools' library: what ``tools/train.py``,
``tools/test.py``, ``tools/check_dataset.py`` and the analysis tools do
besides parsing arguments (not OpenMMLab's inference ``apis``).

- ``config_args``: load a config with ``--cfg-options``, the task's scope;
- ``preflight``: data roots, ann files and the class-folder count checked
  before the Runner starts;
- ``runner``: ``WorkDirSafeRunner`` / ``WorkDirSafeFlexibleRunner``
  (resumable loops, checked resume), FSDP configs evaluated unsharded;
- ``resume_checkpoint``: the newest readable checkpoint for ``--resume``;
- ``checkpoint_check``: strict checkpoint loading, ``CheckpointMismatchError``;
- ``work_dir_lock``: one training run per work dir (an OS lock);
- ``parent_watch``: ranks started by ``torchrun`` die with it;

The process group's lifecycle (gloo on CPU, teardown before the interpreter
finalizes) lives below, in ``mmvitreg.engine.process_group``, so that
token-label generation and the tests use the same one.

Kept out of ``mmvitreg/__init__`` so that importing the package for
registration stays cheap; tools import it explicitly.
"""
from .checkpoint_check import CheckpointMismatchError, load_checkpoint_strict
from .config_args import task_of
from .preflight import (
    check_class_count,
    check_data_paths,
    check_pretrained_files,
)
from .resume_checkpoint import CheckpointReadError, find_resumable_checkpoint
from .runner import WorkDirSafeRunner, build_runner, unshard_for_test

__all__ = [
    'CheckpointMismatchError', 'load_checkpoint_strict',
    'task_of',
    'check_data_paths',
    'check_class_count', 'check_pretrained_files',
    'WorkDirSafeRunner', 'build_runner', 'unshard_for_test',
    'CheckpointReadError',
    'find_resumable_checkpoint'
]
