"""Hooks registered into mmengine/mmpretrain HOOKS."""
from .continue_schedule_hook import ContinueScheduleHook  # noqa: F401
from .fresh_optimizer_hook import FreshOptimizerHook  # noqa: F401
from .patch_similarity_hook import PatchSimilarityHook  # noqa: F401
from .atomic_checkpoint_hook import AtomicCheckpointHook  # noqa: F401
from .divergence_guard_hook import DivergenceGuardHook  # noqa: F401
from .sharded_ema_hook import ShardedEMAHook  # noqa: F401
from .seg_sample_visualization_hook import \
    SegSampleVisualizationHook  # noqa: F401
