"""Optimizer-wrapper constructors registered into mmseg's registry."""
from .layer_decay_constructor import \
    BackboneLayerDecayOptimWrapperConstructor  # noqa: F401
