"""mmvitreg.models.losses."""
from .binary_cross_entropy import ThresholdedBCELoss  # noqa: F401
from .patch_contrastive import PatchContrastiveLoss  # noqa: F401
from .patch_cosine import PatchCosineLoss  # noqa: F401
from .patch_mixing import PatchMixingLoss  # noqa: F401
from .token_labeling import TokenLabelingLoss  # noqa: F401
