"""Dense machine annotation: a classifier's head at every feature location.

Token labeling (``methods.md`` section 2) turns a pretrained classifier into a
dense annotator by applying its linear classifier, as a 1x1 convolution, to
every location of the final feature map instead of the pooled feature:

    S[:, y, x] = W f[:, y, x] + b,    f: (C, H', W'),  S: (K, H', W')

and keeps the top-k scores (logits) and class indices per location.

Supported models:

- mmpretrain ``ImageClassifier`` with a ``VisionTransformer`` backbone: the
  backbone runs with ``out_type='featmap'`` (patch tokens after the final
  norm, ``(B, C, H/p, W/p)``; ``avg_featmap`` models get their ``ln2`` per
  location) and the head (``VisionTransformerClsHead.layers`` or a linear
  ``fc``) is applied per location;
- mmpretrain ``ImageClassifier`` with a CNN backbone (last stage
  ``(B, C, H', W')``, neck = global pooling, skipped) and a linear ``fc``;
- timm models: ``forward_features`` (prefix tokens of ViTs dropped, tokens
  reshaped to the patch grid), then ``fc_norm`` (when present) and
  ``get_classifier()`` per location.
"""
from typing import Callable, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

DenseFn = Callable[[torch.Tensor], torch.Tensor]


def linear_as_conv1x1(x: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """Apply ``module`` (Linear / activations / LayerNorm / Sequential of
    those) to every location of ``x (B, C, H, W)`` -> ``(B, C', H, W)``.

    A ``Linear`` is a 1x1 conv with weight ``W[:, :, None, None]``; anything
    else acts on the channel (last) dimension of the channels-last view.
    """
    if isinstance(module, nn.Linear):
        return F.conv2d(x, module.weight[:, :, None, None], module.bias)
    if isinstance(module, nn.Sequential):
        for m in module:
            x = linear_as_conv1x1(x, m)
        return x
    if isinstance(module, (nn.Identity, nn.Dropout)):
        return x
    return module(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _mmpretrain_dense(model: nn.Module) -> DenseFn:
    from mmpretrain.models.backbones import VisionTransformer
    backbone, head = model.backbone, model.head
    if hasattr(head, 'layers'):  # VisionTransformerClsHead
        classifier = head.layers
    elif hasattr(head, 'fc'):  # LinearClsHead and friends
        classifier = head.fc
    else:
        raise TypeError(f'{type(head).__name__}: dense annotation needs a '
                        'head with a linear `fc` or `layers`')
    is_vit = isinstance(backbone, VisionTransformer)
    post_norm = None
    if is_vit and backbone.out_type == 'avg_featmap':
        post_norm = backbone.ln2
    elif is_vit and backbone.out_type not in ('cls_token', 'featmap'):
        raise TypeError(f'VisionTransformer out_type={backbone.out_type!r} '
                        'is not supported for dense annotation')

    def dense(x: torch.Tensor) -> torch.Tensor:
        if is_vit:
            out_type = backbone.out_type
            backbone.out_type = 'featmap'
            try:
                feat = backbone(x)[-1]
            finally:
                backbone.out_type = out_type
            if post_norm is not None:
                feat = linear_as_conv1x1(feat, post_norm)
        else:
            feat = backbone(x)[-1]
            if feat.dim() != 4:
                raise TypeError(f'{type(backbone).__name__} gives a '
                                f'{feat.dim()}-d output, not a feature map')
        return linear_as_conv1x1(feat, classifier)

    return dense


def _timm_dense(model: nn.Module) -> DenseFn:
    classifier = model.get_classifier()
    fc_norm = getattr(model, 'fc_norm', None)
    num_prefix = getattr(model, 'num_prefix_tokens', 0)
    patch_embed = getattr(model, 'patch_embed', None)

    def dense(x: torch.Tensor) -> torch.Tensor:
        feat = model.forward_features(x)
        if feat.dim() == 3:  # ViT tokens (B, P + N, C)
            tokens = feat[:, num_prefix:]
            if patch_embed is not None and hasattr(patch_embed,
                                                   'dynamic_feat_size'):
                h, w = patch_embed.dynamic_feat_size(x.shape[-2:])
            else:
                h, w = patch_embed.grid_size
            feat = tokens.transpose(1, 2).reshape(x.size(0), -1, h, w)
        elif feat.dim() == 4 and getattr(model, 'output_fmt', 'NCHW') == \
                'NHWC':
            feat = feat.permute(0, 3, 1, 2)
        if fc_norm is not None:
            feat = linear_as_conv1x1(feat, fc_norm)
        return linear_as_conv1x1(feat, classifier)

    return dense


class DenseAnnotator(nn.Module):
    """Wrap a classifier as a dense top-k annotator.

    Args:
        model: an mmpretrain ``ImageClassifier`` or a timm model.
        topk: number of (score, index) pairs kept per location.

    ``forward(x (B, 3, S, S))`` returns ``scores (B, k, H', W')`` (logits,
    float32) and ``indices (B, k, H', W')`` (int64), sorted by decreasing
    score.
    """

    def __init__(self, model: nn.Module, topk: int = 5):
        super().__init__()
        self.model = model.eval()
        self.topk = topk
        if hasattr(model, 'backbone') and hasattr(model, 'head'):
            self.dense = _mmpretrain_dense(model)
        elif hasattr(model, 'forward_features') and hasattr(
                model, 'get_classifier'):
            self.dense = _timm_dense(model)
        else:
            raise TypeError(f'{type(model).__name__} is neither an mmpretrain '
                            'ImageClassifier nor a timm model')

    @torch.no_grad()
    def score_map(self, x: torch.Tensor) -> torch.Tensor:
        """Full dense scores ``(B, K, H', W')``."""
        return self.dense(x)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        scores = self.score_map(x).float()
        k = min(self.topk, scores.size(1))
        return scores.topk(k, dim=1)
