"""Hooks registered into mmengine/mmpretrain HOOKS."""
from .patch_similarity_hook import PatchSimilarityHook  # noqa: F401
