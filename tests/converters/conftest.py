"""Tiny timm models (random weights, no downloads) for the converter tests.

Every parameter, LayerNorms and LayerScales included, is drawn from
N(0, 0.3^2), so a mis-mapped key (say ``norm1`` <-> ``norm2``) changes the
output instead of hiding behind LayerNorm's ones/zeros initialisation.
"""
import pytest
import torch

import mmvitreg  # noqa: F401  (compat layer before mmseg)

#: timm ViT / mmpretrain arch: 32 px, 4 px patches -> an 8 x 8 grid.
VIT = dict(img_size=32, patch_size=4, embed_dim=32, depth=2, num_heads=2)
VIT_ARCH = dict(embed_dims=32,
                num_layers=2,
                num_heads=2,
                feedforward_channels=128)
#: timm Swin: 32 px, 2 px patches, window 2, maps 16/8/4/2 px, and two
#: blocks per stage so the shifted-window block is exercised too.
SWIN = dict(img_size=32,
            patch_size=2,
            window_size=2,
            embed_dim=16,
            depths=(2, 2, 2, 2),
            num_heads=(1, 1, 2, 2))
SWIN_ARCH = dict(embed_dims=16, depths=[2, 2, 2, 2], num_heads=[1, 1, 2, 2])


def randomise(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Redraw every parameter from N(0, 0.3^2); returns the model in eval."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(0.3 * torch.randn(param.shape, generator=gen))
    return model.eval()


def timm_vit(**kwargs) -> torch.nn.Module:
    from timm.models.vision_transformer import VisionTransformer
    return randomise(VisionTransformer(**{**VIT, **kwargs}))


def timm_swin(**kwargs) -> torch.nn.Module:
    from timm.models.swin_transformer import SwinTransformer
    return randomise(SwinTransformer(**{**SWIN, **kwargs}))


def timm_pre_logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """timm ViT's pooled feature before the classifier (B, C)."""
    with torch.no_grad():
        return model.forward_head(model.forward_features(x), pre_logits=True)


@pytest.fixture
def images() -> torch.Tensor:
    return torch.randn(2,
                       3,
                       32,
                       32,
                       generator=torch.Generator().manual_seed(1))
