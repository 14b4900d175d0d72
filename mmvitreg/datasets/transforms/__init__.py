"""Data transforms registered into mmpretrain (and mmseg) pipelines."""
from .check_seg_annotation import (
    BadAnnotationError,
    CheckSegAnnotation,
    tta_pipeline_with_check,
)
from .simple_random_crop import SimpleRandomCrop
from .three_augment import ThreeAugment
from .token_label_alignment import AlignTokenLabel, RandomResizedCropWithBox
from .token_label_loading import LoadTokenLabel
from .tracked_geometric import TrackedRotate, TrackedShear, TrackedTranslate
