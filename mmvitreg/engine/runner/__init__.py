"""Train loops and data loading that make a resumed run bit-exact, and the
one FSDP check (:func:`is_fsdp`) of hooks, strategy and runner code."""
from .fsdp import is_fsdp
from .resumable_loops import (
    ResumableEpochBasedTrainLoop,
    ResumableIterBasedTrainLoop,
)
from .rng_state import get_rng_state, set_rng_state
from .seeded_loading import SeededDataset, SeededSampler, seeded_dataloader

__all__ = [
    'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop',
    'get_rng_state', 'set_rng_state', 'SeededDataset', 'SeededSampler',
    'seeded_dataloader', 'is_fsdp'
]
