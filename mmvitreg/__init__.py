"""mmvitreg: ViT training objectives for OpenMMLab (mmpretrain -> mmseg).

Importing the package first installs the compatibility layer (``mmcv.ops``
stand-in on mmcv-lite, safe checkpoint loading), then registers every module
into mmpretrain's and mmseg's registries. Configs list it first in
``custom_imports`` so that it is imported before mmseg.

Layers (bottom to top):
    compat < utils < structures < datasets, evaluation, models < engine
    < analysis < converters < token_labels < model_zoo < experiments < cli

A package imports only from its own layer's package or the layers below
(packages that share a layer do not import each other); ``tools/`` and
``benchmarks/`` sit above ``cli``. ``tests/test_layers.py`` reads this
order and fails on an import that points up. This file itself and
``version.py`` are outside the order: the former imports the registering
packages, the latter imports nothing.
"""
from .compat import install_compat

install_compat()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .model_zoo import register_model_zoo  # noqa: E402
from .version import __version__  # noqa: E402

# mmpretrain's list_models / get_model / inference_model and mmengine's
# inferencers find the suite's models by name (model-index.yml).
register_model_zoo()

__all__ = ['__version__', 'install_compat']
