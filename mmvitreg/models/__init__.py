"""Models, losses and batch augmentations registered into mmpretrain; the
segmentor into mmseg."""
from . import (backbones, batch_augments, classifiers, heads,  # noqa: F401
               losses, segmentors, utils, weight_init)
