"""The ``mmvitreg`` registry scope, for mmengine's inferencers by name.

mmengine's ``BaseInferencer`` (``MMSegInferencer``) finds a model name in
the model index of its ``scope`` package and then builds everything with
that scope as the default: ``MMSegInferencer(model=NAME, scope='mmvitreg')``
reads this suite's index, so the ``mmvitreg`` scope has to resolve
registry look-ups. Each registry here is a child of mmseg's registry of
the same name (scope ``mmvitreg``, nothing registered in it), so every
look-up falls through to mmseg's registries (which hold the suite's
segmentation modules too). Only the ``mmvitreg`` default scope uses them;
the configs' ``mmseg`` / ``mmpretrain`` scopes are untouched.
"""
from typing import Dict

from mmengine.registry import Registry

SCOPE = 'mmvitreg'
_children: Dict[str, Registry] = {}


def add_seg_scope() -> Dict[str, Registry]:
    """Create the children once; returns them by mmseg's attribute name."""
    if not _children:
        import mmseg.registry as seg_registry
        for attr in dir(seg_registry):
            parent = getattr(seg_registry, attr)
            if isinstance(parent, Registry) and parent.scope == 'mmseg':
                _children[attr] = Registry(
                    parent.name, parent=parent, scope=SCOPE,
                    locations=['mmvitreg'])
    return _children
