"""mmvitreg.models.backbones: only what mmpretrain lacks (mmpretrain
``MODELS``): ``DeiT3ViT`` (DeiT III training settings on mmpretrain's
``DeiT3``) and ``LVViT`` (LV-ViT's conv stem and scaled residuals)."""
from .deit3_vit import DeiT3ViT, DeiT3ViTLayer  # noqa: F401
from .lvvit import LVViT  # noqa: F401
