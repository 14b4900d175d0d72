"""Hooks registered into mmengine/mmpretrain HOOKS."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .continue_schedule_hook import ContinueScheduleHook
from .divergence_guard_hook import DivergenceGuardHook
from .fresh_optimizer_hook import FreshOptimizerHook
from .patch_similarity_hook import PatchSimilarityHook
from .seg_sample_visualization_hook import SegSampleVisualizationHook
from .sharded_ema_hook import ShardedEMAHook
