"""mmvitreg.models.batch_augments: CutMix-like mixing on a grid of cells
(mmpretrain ``BATCH_AUGMENTS``).

- ``PatchMixing``: images mixed on the patch grid, patch sources recorded
  for the patch-mixing loss;
- ``MixToken``: tokens mixed after the patch embedding (token labeling);
- :mod:`.grid_box`: the box sampler both use.
"""
from .mix_token import MixToken
from .patch_mixing import PatchMixing
