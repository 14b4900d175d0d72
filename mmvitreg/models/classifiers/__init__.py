"""mmvitreg.models.classifiers."""
from .diverse_image_classifier import DiverseImageClassifier  # noqa: F401
