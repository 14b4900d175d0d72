"""mmvitreg.models.batch_augments."""
from .patch_mixing import PatchMixing  # noqa: F401
