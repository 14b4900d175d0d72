"""mmvitreg.models.backbones."""
from .deit3_vit import DeiT3ViT, DeiT3ViTLayer  # noqa: F401
from .lvvit import LVViT  # noqa: F401
