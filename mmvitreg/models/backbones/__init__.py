"""mmvitreg.models.backbones."""
from .lvvit import LVViT  # noqa: F401
