"""Which checkpoint ``--resume`` takes, and whether a file is readable.

A checkpoint can be truncated or corrupt (disk full, a copy cut short, a
run killed by an older writer). ``--resume`` without a value takes the one
``last_checkpoint`` names if it is readable, else the newest readable
checkpoint beside it, warning about each one skipped; an explicit
``--resume PATH`` that is unreadable fails with an error naming the file.
"""
import glob
import os
import os.path as osp
import zipfile
from typing import List, Optional

from mmvitreg.compat.checkpoint_loading import (
    UntrustedCheckpointError,
    safe_torch_load,
)


class CheckpointReadError(RuntimeError):
    """A checkpoint file is missing, truncated or corrupt."""


def checkpoint_problem(path: str) -> Optional[str]:
    """``None`` if ``path`` is a complete checkpoint, else what is wrong.

    torch's zip format is checked without unpickling: the central directory
    (at the end, so a truncated file has none) and every member's CRC-32.
    Older (non-zip) files are checked by loading them.
    """
    if not osp.isfile(path):
        return 'no such file'
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            return f'unreadable zip archive ({err})'
        return None if bad is None else f'corrupt member {bad} (CRC error)'
    try:
        safe_torch_load(path, map_location='cpu')
    except UntrustedCheckpointError:
        raise
    except Exception as err:  # noqa: BLE001  (any reason it cannot load)
        return (f'not a complete torch checkpoint ({type(err).__name__}: '
                f'{err})')
    return None


def require_readable(path: str) -> None:
    """Raise :class:`CheckpointReadError` naming ``path`` if unreadable."""
    problem = checkpoint_problem(path)
    if problem is not None:
        raise CheckpointReadError(
            f'cannot resume from checkpoint {path}: {problem}')


def _recorded_latest(work_dir: str) -> Optional[str]:
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def resume_candidates(work_dir: str) -> List[str]:
    """The recorded latest checkpoint first, then the other ``*.pth`` of
    its folder (the work dir if none is recorded), newest first; ``best_*``
    files (no optimizer state) are not candidates."""
    latest = _recorded_latest(work_dir)
    folder = osp.dirname(latest) if latest else work_dir
    others = [
        p for p in glob.glob(osp.join(folder, '*.pth'))
        if not osp.basename(p).startswith('best_') and p != latest
    ]
    others.sort(key=os.path.getmtime, reverse=True)
    return ([latest] if latest else []) + others


def find_resumable_checkpoint(work_dir: str, warn) -> Optional[str]:
    """The newest readable checkpoint of ``work_dir`` (``None`` if there is
    none at all); ``warn(message)`` is called for every one skipped.

    Raises:
        CheckpointReadError: there are checkpoints but none is readable.
    """
    candidates = resume_candidates(work_dir)
    for path in candidates:
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        warn(f'--resume: skipping unreadable checkpoint {path}: {problem}')
    if candidates:
        raise CheckpointReadError(
            f'--resume: no readable checkpoint in {work_dir}; tried '
            + ', '.join(candidates))
    return None
