"""Where the model index lives and how it is read.

OpenMMLab packages ship their index as ``<package>/.mim/model-index.yml``
with ``.mim/configs`` next to it: mim (``mim search``) and mmengine's
inferencers look there. ``mmvitreg/.mim/`` holds two links,
``model-index.yml`` and ``configs``, to the repository root's files, so the
same paths work from a checkout, an editable install and a wheel.
"""
import os.path as osp
from typing import List

from modelindex.load_model_index import load
from modelindex.models.Model import Model

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def zoo_root() -> str:
    """The folder holding ``model-index.yml`` and ``configs/``: the
    package's ``.mim`` (the links, or the copies a wheel carries)."""
    root = osp.join(PACKAGE_DIR, '.mim')
    index = osp.join(root, 'model-index.yml')
    if not osp.isfile(index):
        raise FileNotFoundError(
            f'{index} is missing: the model index (repository root '
            "model-index.yml) is linked there; reinstall mmvitreg or "
            'restore the link')
    return root


def load_models() -> List[Model]:
    """Every model of the index, collections merged in (modelindex's
    objects: ``name``, ``config``, ``results``, ``metadata``, ...)."""
    index = load(osp.join(zoo_root(), 'model-index.yml'))
    index.build_models_with_collections()
    return list(index.models)
