"""Datasets and transforms registered into mmpretrain's and mmseg's registries."""
from . import transforms  # noqa: F401
