"""Patch-wise mixing loss (Gong et al. 2021, "Vision Transformers with
Patch Diversification")."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


@MODELS.register_module()
class PatchMixingLoss(nn.Module):
    r"""Per-patch cross-entropy against the label of each patch's source.

    .. math::
        L_{mixing} = \mathrm{mean}_b \frac{1}{N} \sum_i
        CE(g(h_i), y_{src(i)})

    ``g`` is a linear patch classifier shared over positions; it is owned by
    :class:`DiverseImageClassifier` (``patch_head``), which passes its logits
    here. ``y_src(i)`` is either a hard label or the source image's (soft)
    score; the sources are recorded by the ``PatchMixing`` batch augment.
    fp32 even under autocast.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, patch_logits: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Args:
            patch_logits (Tensor): ``g(h)``, shape ``(B, N, K)``.
            target (Tensor): Hard labels ``(B, N)`` (long) or soft scores
                ``(B, N, K)``.

        Returns:
            Tensor: Scalar ``loss_weight * L_mixing``.
        """
        if patch_logits.dim() != 3:
            raise ValueError('PatchMixingLoss expects patch_logits of shape '
                             f'(B, N, K), got {tuple(patch_logits.shape)}')
        if target.shape not in (patch_logits.shape, patch_logits.shape[:2]):
            raise ValueError(
                'PatchMixingLoss: target must be (B, N) labels or (B, N, K) '
                f'scores for logits {tuple(patch_logits.shape)}, got '
                f'{tuple(target.shape)}')
        with torch.autocast(device_type=patch_logits.device.type,
                            enabled=False):
            log_prob = F.log_softmax(patch_logits.float(), dim=-1)
            if target.dim() == 2:
                loss = F.nll_loss(log_prob.flatten(0, 1), target.flatten())
            else:
                loss = -(target.float() * log_prob).sum(dim=-1).mean()
        return self.loss_weight * loss
