"""Which modules are transformer blocks: the unit FSDP shards and gathers
one at a time, and the unit activation checkpointing recomputes.

Every backbone of the suite is built from one of three mmpretrain block
classes: ``TransformerEncoderLayer`` (``VisionTransformer``, mmvitreg's
``LVViT`` layers subclass it), ``DeiT3TransformerEncoderLayer`` (``DeiT3``,
mmvitreg's ``DeiT3ViT`` layers) and ``SwinBlock`` (``SwinTransformer``).
Wrapping each block in its own FSDP unit keeps one block's full parameters
in memory at a time (ViT-L: 12.6M of 304M); patch embedding, tokens,
final norm and heads stay in the root unit.

Both functions are registered in mmengine's ``FUNCTIONS`` so that configs
name them::

    strategy = dict(
        type='RecipeFSDPStrategy',
        model_wrapper=dict(auto_wrap_policy='transformer_block_wrap_policy'),
        activation_checkpointing=dict(check_fn='is_transformer_block'))
"""
from typing import Tuple, Type

from mmengine.registry import FUNCTIONS
from torch import nn


def transformer_block_types() -> Tuple[Type[nn.Module], ...]:
    """The block classes of the suite's backbones (subclasses included)."""
    from mmpretrain.models.backbones.deit3 import DeiT3TransformerEncoderLayer
    from mmpretrain.models.backbones.swin_transformer import SwinBlock
    from mmpretrain.models.backbones.vision_transformer import (
        TransformerEncoderLayer,
    )
    return (TransformerEncoderLayer, DeiT3TransformerEncoderLayer, SwinBlock)


@FUNCTIONS.register_module()
def is_transformer_block(module: nn.Module) -> bool:
    """Whether ``module`` is one transformer block."""
    return isinstance(module, transformer_block_types())


@FUNCTIONS.register_module()
def transformer_block_wrap_policy(module: nn.Module, recurse: bool,
                                  nonwrapped_numel: int) -> bool:
    """FSDP ``auto_wrap_policy``: one FSDP unit per transformer block
    (``recurse`` asks whether to look inside ``module``: always)."""
    return True if recurse else is_transformer_block(module)
