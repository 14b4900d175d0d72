"""mmvitreg: ViT training objectives for OpenMMLab (mmpretrain -> mmseg).

Importing the package first installs the compatibility layer (``mmcv.ops``
stand-in on mmcv-lite, safe checkpoint loading), then registers every module
into mmpretrain's and mmseg's registries. Configs list it first in
``custom_imports`` so that it is imported before mmseg.
"""
from .compat import install_compat

install_compat()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'install_compat']
