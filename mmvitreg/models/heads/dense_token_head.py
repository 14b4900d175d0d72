"""Auxiliary dense head of token labeling (Jiang et al. 2021, LV-ViT)."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class DenseTokenHead(BaseModule):
    r"""Linear classifier shared over positions, applied to every output
    patch token: :math:`X_i = W h^{[L]}_i + b`, ``(B, N, C) -> (B, N, K)``.

    Training: :meth:`loss` returns ``{'loss_token': L_token}`` with
    :math:`L_{token}` the configured loss (``TokenLabelingLoss`` by default).
    Inference: :meth:`aux_logits` gives :math:`\max_i X_i` ``(B, K)``, which
    LV-ViT adds to the class-token logits with weight 0.5.

    Args:
        in_channels (int): Token channels ``C``.
        num_classes (int): Classes ``K``.
        loss (dict): Dense loss config. Defaults to
            ``dict(type='TokenLabelingLoss', beta=0.5)``.
        init_cfg (dict, optional): Defaults to truncated normal (std 0.02)
            weights and zero bias, as the released LV-ViT ``aux_head``.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 loss: Optional[dict] = None,
                 # mmengine's BaseModule deep-copies init_cfg, and None must
                 # stay 'no init': the dict default is never shared.
                 init_cfg: Optional[dict] = dict(  # noqa: B006
                     type='TruncNormal', layer='Linear', std=.02,
                     bias=0.)) -> None:
        super().__init__(init_cfg=init_cfg)
        if int(in_channels) < 1 or int(num_classes) < 1:
            raise ValueError('DenseTokenHead: in_channels and num_classes '
                             f'must be >= 1, got {in_channels}, {num_classes}')
        self.in_channels = int(in_channels)
        self.num_classes = int(num_classes)
        self.fc = nn.Linear(self.in_channels, self.num_classes)
        if loss is None:  # a fresh dict, not a shared default
            loss = dict(type='TokenLabelingLoss', beta=0.5)
        self.loss_module = loss if isinstance(loss, nn.Module) else \
            MODELS.build(loss)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Args:
            tokens (Tensor): Output patch tokens ``(B, N, C)``, class token
                excluded.

        Returns:
            Tensor: Dense logits ``(B, N, K)``.
        """
        if tokens.dim() != 3 or tokens.size(-1) != self.in_channels:
            raise ValueError(
                f'DenseTokenHead expects tokens (B, N, {self.in_channels}), '
                f'got {tuple(tokens.shape)}')
        return self.fc(tokens)

    def loss(self, tokens: torch.Tensor, targets: torch.Tensor) -> dict:
        """``{'loss_token': L_token(X, targets)}`` for tokens ``(B, N, C)``
        and soft token labels ``(B, N, K)``."""
        return dict(loss_token=self.loss_module(self(tokens), targets))

    def aux_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        r""":math:`\max_i X_i`, ``(B, K)``: the per-class maximum of the
        dense logits over tokens."""
        return self(tokens).max(dim=1).values
