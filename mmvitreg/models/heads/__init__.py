"""mmvitreg.models.heads: ``DenseTokenHead``, the per-token classifier of
token labeling (mmpretrain ``MODELS``)."""
from .dense_token_head import DenseTokenHead  # noqa: F401
