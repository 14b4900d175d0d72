"""Datasets and transforms registered into mmpretrain's and mmseg's registries."""
from . import transforms  # noqa: F401
from . import digit_scenes  # noqa: F401
from . import image_folder  # noqa: F401
