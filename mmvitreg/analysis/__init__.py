"""mmvitreg.analysis: measuring trained models and reading configs,
shared by tools, hooks and tests.

- :mod:`.checkpoint_similarity`: the per-layer patch cosine similarity
  curve (:mod:`mmvitreg.models.utils.patch_similarity`) for a config +
  checkpoint pair (``tools/analysis/patch_similarity.py``);
- :mod:`.similarity_report`: the tool's CSV / JSON / PNG / table writers;
- :mod:`.recipe`: the values that define a config's training recipe, as
  rows, a terminal table and Markdown (``tools/analysis/print_recipe.py``,
  ``docs/recipes.md``);
- :mod:`.recipes_published`: the published value and source of each
  recipe row of the full configs, for the doc's "published" column;
- :mod:`.memory_plan`: a config's per-GPU training memory without a GPU
  (``tools/analysis/estimate_memory.py``), from :mod:`.saved_tensors`
  (bytes saved for backward), :mod:`.cuda_kernels` (CUDA's autocast and
  fused attention on fake tensors), :mod:`.optimizer_states` (state bytes
  by optimizer type) and :mod:`.train_batch` (a synthetic batch at the
  recipe's size); :mod:`.memory_doc` renders its docs/recipes.md table.
"""
