"""Analysis library code shared by tools and hooks."""
from .patch_similarity import (  # noqa: F401
    collect_layer_tokens, layer_similarity, mean_patch_cosine)
