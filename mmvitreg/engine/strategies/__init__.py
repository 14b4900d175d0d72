"""Training strategies for mmengine's ``FlexibleRunner`` (FSDP) and the
functions their configs name (registered in mmengine's root registries)."""
from .recipe_fsdp_strategy import RecipeFSDPStrategy
from .transformer_blocks import (
    is_transformer_block,
    transformer_block_wrap_policy,
)
