"""mmvitreg.models.batch_augments."""
from .patch_mixing import PatchMixing  # noqa: F401
from .mix_token import MixToken  # noqa: F401
