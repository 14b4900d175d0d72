"""Library side of ``tools/train.py`` and ``tools/test.py``.

Kept out of ``mmvitreg/__init__`` so that importing the package for
registration stays cheap; tools import it explicitly.
"""
from .checkpoint_check import CheckpointMismatchError, load_checkpoint_strict
from .config_args import load_config, task_of
from .distributed import init_cpu_process_group
from .preflight import check_data_paths
from .resume_checkpoint import (CheckpointReadError,
                                find_resumable_checkpoint)
from .runner import WorkDirSafeRunner, build_runner

__all__ = [
    'CheckpointMismatchError', 'load_checkpoint_strict', 'load_config',
    'task_of', 'init_cpu_process_group', 'check_data_paths',
    'WorkDirSafeRunner', 'build_runner', 'CheckpointReadError',
    'find_resumable_checkpoint'
]
