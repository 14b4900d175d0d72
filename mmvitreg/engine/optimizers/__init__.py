"""Optimizer-wrapper constructors registered into mmseg's registry, and
optimizers registered into mmengine's root ``OPTIMIZERS``."""
from .layer_decay_constructor import BackboneLayerDecayOptimWrapperConstructor
from .sharded_lamb import ShardedLamb
