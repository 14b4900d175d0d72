"""mmvitreg.models.classifiers: ``ImageClassifier`` subclasses (mmpretrain
``MODELS``) that add the training objectives.

- ``DiverseImageClassifier``: the patch-diversification losses (cosine,
  contrastive, mixing) on tokens read in ``loss`` only;
- ``TokenLabelingClassifier``: token labeling and MixToken (LV-ViT), on top
  of the former.
"""
from .diverse_image_classifier import DiverseImageClassifier  # noqa: F401
from .token_labeling_classifier import TokenLabelingClassifier  # noqa: F401
