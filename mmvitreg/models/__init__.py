"""Models, losses and batch augmentations registered into mmpretrain."""
from . import (backbones, batch_augments, classifiers, heads,  # noqa: F401
               losses, utils, weight_init)
