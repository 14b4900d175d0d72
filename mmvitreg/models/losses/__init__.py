"""mmvitreg.models.losses: the papers' objectives, one a file (mmpretrain
``MODELS``): ``PatchCosineLoss``, ``PatchContrastiveLoss``,
``PatchMixingLoss`` (patch diversification), ``TokenLabelingLoss`` (token
labeling), ``ThresholdedBCELoss`` (DeiT III)."""
from .binary_cross_entropy import ThresholdedBCELoss  # noqa: F401
from .patch_contrastive import PatchContrastiveLoss  # noqa: F401
from .patch_cosine import PatchCosineLoss  # noqa: F401
from .patch_mixing import PatchMixingLoss  # noqa: F401
from .token_labeling import TokenLabelingLoss  # noqa: F401
