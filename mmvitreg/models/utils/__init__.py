"""mmvitreg.models.utils: what the models share but is no model itself.

- :mod:`.patch_tokens`: reading patch tokens out of unchanged ViT / Swin
  backbones (the losses, ``DiverseEncoderDecoder``, ``PatchSimilarityHook``
  and the patch-similarity tool all use it);
- :mod:`.diverse_data_preprocessor`: ``DiverseDataPreprocessor``, which
  hands ``PatchMixing``'s patch sources to the model;
- :mod:`.class_targets`: a batch's image-level target (``gt_score`` or
  ``gt_label``);
- :mod:`.model_config`: a config's model as the ``Runner`` builds it;
- :mod:`.strict_load`: strict checkpoint loading (every key and shape, no
  NaN/inf), its errors; ``cli`` uses them through a ``Runner``.
"""
from .class_targets import class_targets
from .diverse_data_preprocessor import DiverseDataPreprocessor
from .model_config import model_config
from .patch_tokens import PatchTokens, block_modules, record_patch_tokens
from .strict_load import load_weights_strict

__all__ = [
    'DiverseDataPreprocessor', 'class_targets', 'PatchTokens', 'block_modules',
    'load_weights_strict', 'model_config', 'record_patch_tokens'
]
