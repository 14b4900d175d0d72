"""mmvitreg.models.heads."""
from .dense_token_head import DenseTokenHead  # noqa: F401
