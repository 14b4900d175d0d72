"""Datasets and transforms registered into mmpretrain's and mmseg's
registries."""
from . import digit_scenes, image_folder, transforms
