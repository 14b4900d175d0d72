"""Publish a checkpoint: weights and plain metadata only, hash in the name.

OpenMMLab's ``publish_model.py`` deletes the optimizer, saves, and renames
the file to ``<name>-<first 8 hex digits of its sha256>.pth``; under torch
>= 2.6 it fails before that, because its ``torch.load`` (weights only)
meets mmengine's ``HistoryBuffer`` in the message hub. Here the source is
read with the suite's safe loader (``HistoryBuffer`` and numpy admitted,
anything else refused), and only ``state_dict`` and the plain-data part of
``meta`` are kept: the optimizer, message hub, schedulers, EMA copy and
resume state are dropped, so the published file loads with plain
``torch.load(weights_only=True)``. NaN/inf weights are refused, naming the
tensors.
"""
import hashlib
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import torch

from .base import CheckpointFormatError

_PLAIN = (str, int, float, bool, type(None))


@dataclass
class Published:
    """The written file, its sha256 and what was left out."""
    path: str
    sha256: str
    dropped: List[str] = field(default_factory=list)
    dropped_meta: List[str] = field(default_factory=list)


def _is_plain(value: Any) -> bool:
    """Data torch's weights-only unpickler reads without an allow-list."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, _PLAIN) and _is_plain(v)
                   for k, v in value.items())
    return False


def slim(checkpoint: Dict[str, Any],
         source: str) -> Tuple[Dict[str, Any], List[str], List[str]]:
    """``{'state_dict', 'meta'}`` of ``checkpoint``; returns it with the
    dropped top-level keys and the dropped (non-plain) meta keys."""
    if not isinstance(checkpoint, dict) or not isinstance(
            checkpoint.get('state_dict'), dict):
        raise CheckpointFormatError(
            f'{source}: no state_dict (not a checkpoint written by '
            'tools/train.py)')
    meta = checkpoint.get('meta') or {}
    plain_meta = {k: v for k, v in meta.items() if _is_plain(v)}
    dropped = sorted(k for k in checkpoint if k not in ('state_dict',
                                                        'meta'))
    dropped_meta = sorted(k for k in meta if k not in plain_meta)
    out = {'state_dict': checkpoint['state_dict'], 'meta': plain_meta}
    return out, dropped, dropped_meta


def sha256_of(path: str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def hashed_name(out: str, sha: str) -> str:
    """``out`` without ``.pth`` + ``-<sha[:8]>.pth`` (publish_model.py)."""
    stem = out[:-4] if out.endswith('.pth') else out
    return f'{stem}-{sha[:8]}.pth'


def publish(src: str, out: str) -> Published:
    """Write the slim checkpoint of ``src`` as ``<out>-<sha8>.pth``.

    Raises:
        NonFiniteError: NaN/inf weights (named); nothing is written.
        UntrustedCheckpointError: ``src`` pickles objects outside the
            allow-list.
        CheckpointFormatError: ``src`` has no ``state_dict``.
    """
    from mmvitreg.compat.checkpoint_loading import safe_torch_load
    from mmvitreg.models.utils.strict_load import check_finite
    checkpoint = safe_torch_load(src, map_location='cpu')
    slimmed, dropped, dropped_meta = slim(checkpoint, src)
    check_finite(src, slimmed)
    if osp.dirname(osp.abspath(out)):
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    torch.save(slimmed, tmp)
    sha = sha256_of(tmp)
    final = hashed_name(out, sha)
    os.replace(tmp, final)
    return Published(final, sha, dropped, dropped_meta)
