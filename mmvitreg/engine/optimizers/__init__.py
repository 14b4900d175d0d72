"""Optimizer-wrapper constructors registered into mmseg's registry, and
optimizers registered into mmengine's root ``OPTIMIZERS``."""
from .layer_decay_constructor import \
    BackboneLayerDecayOptimWrapperConstructor  # noqa: F401
from .sharded_lamb import ShardedLamb  # noqa: F401
