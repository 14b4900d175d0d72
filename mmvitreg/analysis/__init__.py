"""mmvitreg.analysis: measuring trained models and reading configs,
shared by tools, hooks and tests.

- :mod:`.patch_similarity`: per-layer patch cosine similarity of a model
  on a data loader (the over-smoothing curve; ``PatchSimilarityHook`` and
  the tool);
- :mod:`.checkpoint_similarity`: that curve for a config + checkpoint pair
  (``tools/analysis/patch_similarity.py``);
- :mod:`.similarity_report`: the tool's CSV / JSON / PNG / table writers;
- :mod:`.recipe`: the values that define a config's training recipe, as
  rows, a terminal table and Markdown (``tools/analysis/print_recipe.py``,
  ``docs/recipes.md``);
- :mod:`.recipes_published`: the published value and source of each
  recipe row of the full configs, for the doc's "published" column.
"""
from .patch_similarity import (  # noqa: F401
    collect_layer_tokens, layer_similarity, mean_patch_cosine)
