"""Data transforms registered into mmpretrain (and mmseg) pipelines."""
from .simple_random_crop import SimpleRandomCrop  # noqa: F401
from .three_augment import ThreeAugment  # noqa: F401
from .token_labels import (AlignTokenLabel, LoadTokenLabel,  # noqa: F401
                           RandomResizedCropWithBox)
from .tracked_geometric import (TrackedRotate, TrackedShear,  # noqa: F401
                                TrackedTranslate)
from .check_seg_annotation import (BadAnnotationError,  # noqa: F401
                                   CheckSegAnnotation,
                                   tta_pipeline_with_check)
