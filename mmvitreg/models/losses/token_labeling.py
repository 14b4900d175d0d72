"""Dense token-labeling loss (Jiang et al. 2021, "All Tokens Matter: Token
Labeling for Training Better Vision Transformers", LV-ViT)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


@MODELS.register_module()
class TokenLabelingLoss(nn.Module):
    r"""Soft-target cross entropy between every patch token's auxiliary
    prediction and its dense (token) label.

    .. math::
        L_{token} = \beta \, \mathrm{mean}_b \frac{1}{N} \sum_{i=1}^{N}
        H(X_i, y_i), \qquad H(X, y) = -\sum_k y_k \log \mathrm{softmax}(X)_k

    The class-token term :math:`H(X_{cls}, y_{cls})` of the paper's total
    loss stays with the classifier's head. :math:`\beta = 0.5` in the paper
    (the released ``main.py`` defaults ``--dense-weight 1.0``). Computed in
    fp32 even under autocast.

    Args:
        beta (float): Weight :math:`\beta` of the dense term. Defaults to 0.5.
        loss_weight (float): Extra multiplier (mmpretrain convention); the
            returned value is ``loss_weight * beta * mean H``. Defaults to 1.
    """

    def __init__(self, beta: float = 0.5, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta = float(beta)
        self.loss_weight = float(loss_weight)

    def forward(self, dense_logits: torch.Tensor,
                dense_targets: torch.Tensor) -> torch.Tensor:
        """Args:
            dense_logits (Tensor): Auxiliary-head logits :math:`X_i`,
                ``(B, N, K)``.
            dense_targets (Tensor): Soft token labels :math:`y_i`,
                ``(B, N, K)`` (rows are distributions).

        Returns:
            Tensor: Scalar ``loss_weight * beta * mean_{b,i} H(X_i, y_i)``.
        """
        if dense_logits.dim() != 3:
            raise ValueError('TokenLabelingLoss expects dense_logits of shape '
                             f'(B, N, K), got {tuple(dense_logits.shape)}')
        if dense_targets.shape != dense_logits.shape:
            raise ValueError(
                'TokenLabelingLoss: dense_targets shape '
                f'{tuple(dense_targets.shape)} does not match dense_logits '
                f'{tuple(dense_logits.shape)} (token grid or class count '
                'differs from the model\'s)')
        with torch.autocast(device_type=dense_logits.device.type,
                            enabled=False):
            log_prob = F.log_softmax(dense_logits.float(), dim=-1)
            per_token = -(dense_targets.float() * log_prob).sum(dim=-1)
            loss = per_token.mean()
        return self.loss_weight * self.beta * loss
