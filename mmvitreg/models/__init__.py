"""Models, losses and batch augmentations registered into mmpretrain."""
from . import backbones, batch_augments, classifiers, heads, losses  # noqa: F401
