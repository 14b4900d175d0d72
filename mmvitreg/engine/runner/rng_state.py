"""The process's global random number generators, as one picklable dict.

A bit-exact resume must continue every random stream the training step
draws from (drop path, dropout, batch augments such as PatchMixing and
MixToken, ``num_workers=0`` data loading): Python's ``random``, NumPy's
global ``RandomState``, torch's CPU generator and, when CUDA is in use,
every CUDA device's generator. The dict holds only tuples, ints, floats,
NumPy arrays and tensors, so it loads under ``weights_only=True``.
"""
import logging
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch


def get_rng_state() -> Dict[str, Any]:
    """Snapshot of the global generators of this process."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore a :func:`get_rng_state` snapshot.

    CUDA states are restored when the snapshot has them and as many
    devices are visible; a CPU snapshot leaves CUDA generators alone.
    """
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available():
        if len(cuda) != torch.cuda.device_count():
            raise RuntimeError(
                f'checkpoint RNG state has {len(cuda)} CUDA devices, this '
                f'process sees {torch.cuda.device_count()}')
        torch.cuda.set_rng_state_all(cuda)


def rank_rng_state(state: Dict[str, Any], rank: int,
                   world_size: int) -> Dict[str, Any]:
    """This rank's snapshot from a checkpoint's resume state.

    ``state['rng_per_rank']`` (every rank's snapshot, written by
    ``AtomicCheckpointHook`` in multi-process runs) when it has one entry
    per rank of this run; otherwise ``state['rng']``, the writer's (rank
    0's) snapshot: exact when all ranks draw the same stream (mmengine's
    default ``diff_rank_seed=False``), not with per-rank seeds.
    """
    per_rank: Optional[List[Dict[str, Any]]] = state.get('rng_per_rank')
    if per_rank is not None and len(per_rank) == world_size:
        return per_rank[rank]
    if per_rank is not None:
        from mmengine.logging import print_log
        print_log(
            f'Checkpoint holds the RNG states of {len(per_rank)} processes, '
            f'this run has {world_size}: every process restores rank 0\'s '
            '(the resumed random streams differ from an uninterrupted run).',
            logger='current', level=logging.WARNING)
    return state['rng']
