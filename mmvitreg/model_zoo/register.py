"""Register the model zoo with mmpretrain's ``ModelHub`` and mmengine's
inferencer scopes, once, on ``import mmvitreg``.

- ``ModelHub.register_model_index`` is mmpretrain's own API for third-party
  indexes: afterwards ``list_models``, ``get_model(name)``,
  ``init_model(name, ckpt)`` and ``inference_model(name_or_model, img)``
  find the suite's models (the last picks the inferencer from the
  ``Results[].Task`` of the model's metadata).
- mmengine's ``BaseInferencer`` looks names up in the index of its
  ``scope`` package, but only for scopes in ``MODULE2PACKAGE``; adding
  ``mmvitreg`` there lets an inferencer read this index
  (``scope='mmvitreg'``), and :mod:`.seg_scope` makes that scope build
  mmseg's modules.
"""
import os.path as osp

from mmengine.config.utils import MODULE2PACKAGE

from .index import zoo_root
from .seg_scope import add_seg_scope

_registered = False


def register_model_zoo() -> None:
    """Idempotent: mmpretrain's ModelHub refuses a name registered twice."""
    global _registered
    if _registered:
        return
    from mmpretrain.apis import ModelHub
    root = zoo_root()
    ModelHub.register_model_index(
        osp.join(root, 'model-index.yml'), config_prefix=root)
    MODULE2PACKAGE.setdefault('mmvitreg', 'mmvitreg')
    add_seg_scope()
    _registered = True
