"""mmvitreg.models.classifiers."""
from .diverse_image_classifier import DiverseImageClassifier  # noqa: F401
from .token_labeling_classifier import TokenLabelingClassifier  # noqa: F401
