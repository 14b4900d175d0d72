"""Analysis library code shared by tools and hooks."""
from .patch_similarity import (collect_layer_tokens, layer_similarity,  # noqa: F401,E501
                               mean_patch_cosine)
