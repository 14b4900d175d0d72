"""Expectations for the token-reading tests, computed without the code
under test: patch tokens from a backbone's own outputs (no hooks) and the
patch similarity from an explicit normalised Gram matrix."""
from typing import List

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS


def gram_similarity(tokens: torch.Tensor) -> torch.Tensor:
    """Mean off-diagonal entry of each image's normalised Gram matrix:
    ``(B, N, C)`` -> ``(B,)`` float64."""
    unit = F.normalize(tokens.double(), dim=-1)
    gram = unit @ unit.transpose(1, 2)  # (B, N, N) cosines
    off_diag = ~torch.eye(tokens.size(1), dtype=torch.bool)
    return gram[:, off_diag].mean(dim=1)


def raw_vit_tokens(backbone_cfg: dict, state: dict,
                   x: torch.Tensor) -> List[torch.Tensor]:
    """Every block's patch tokens of a ViT-family backbone, from its
    ``out_type='raw'`` outputs (the last after the final norm), class
    token dropped."""
    num_layers = backbone_cfg['arch']['num_layers']
    backbone = MODELS.build(dict(backbone_cfg, out_type='raw',
                                 out_indices=list(range(num_layers))))
    backbone.load_state_dict(state)
    backbone.eval()
    with torch.no_grad():
        return [out[:, 1:] for out in backbone(x)]


def normalised_rgb(images: List[torch.Tensor]) -> torch.Tensor:
    """``(H, W, 3)`` uint8 RGB images -> ``(B, 3, H, W)``, ``(x - 127.5) /
    64``: the tests' data preprocessor, by hand."""
    x = torch.stack([img.permute(2, 0, 1).float() for img in images])
    return (x - 127.5) / 64.0


def similarity_curve(backbone_cfg: dict, state: dict,
                     images: List[torch.Tensor]) -> List[float]:
    """The per-block patch similarity curve of ``images`` recomputed
    independently: RGB images normalised by hand, every block's tokens
    from the backbone's own outputs, similarity from the normalised Gram
    matrix."""
    tokens = raw_vit_tokens(backbone_cfg, state, normalised_rgb(images))
    return [gram_similarity(t).mean().item() for t in tokens]
