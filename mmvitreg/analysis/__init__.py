"""mmvitreg.analysis: measuring trained models, shared by tools and hooks.

- :mod:`.patch_similarity`: per-layer patch cosine similarity of a model
  on a data loader (the over-smoothing curve; ``PatchSimilarityHook`` and
  the tool);
- :mod:`.checkpoint_similarity`: that curve for a config + checkpoint pair
  (``tools/analysis/patch_similarity.py``);
- :mod:`.similarity_report`: the tool's CSV / JSON / PNG / table writers.
"""
from .patch_similarity import (  # noqa: F401
    collect_layer_tokens, layer_similarity, mean_patch_cosine)
