"""Patch-wise contrastive loss between the first and the last layer (Gong et
al. 2021, "Vision Transformers with Patch Diversification")."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


@MODELS.register_module()
class PatchContrastiveLoss(nn.Module):
    r"""InfoNCE between the first-layer and last-layer tokens of one image.

    .. math::
        L_{contrastive} = \mathrm{mean}_b -\frac{1}{N} \sum_i \log
        \frac{\exp(\langle z^1_i, z^L_i \rangle / t)}
             {\sum_j \exp(\langle z^1_i, z^L_j \rangle / t)}

    with :math:`z = h / |h|` and gradients stopped on :math:`h^{[1]}`
    (``first_tokens`` is detached). The softmax runs over the last-layer
    tokens :math:`j` for each first-layer anchor :math:`i`, as in the
    paper's formula. Memory :math:`O(BN^2)`; fp32 even under autocast.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        temperature (float): Temperature ``t`` (> 0). Defaults to 1.0.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 temperature: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError('PatchContrastiveLoss: temperature must be > 0, '
                             f'got {temperature}')
        self.loss_weight = float(loss_weight)
        self.temperature = float(temperature)

    def forward(self, first_tokens: torch.Tensor,
                last_tokens: torch.Tensor) -> torch.Tensor:
        """Args:
            first_tokens (Tensor): ``h^[1]``, shape ``(B, N, C)``; detached.
            last_tokens (Tensor): ``h^[L]``, shape ``(B, N, C)``.

        Returns:
            Tensor: Scalar ``loss_weight * L_contrastive``.
        """
        if first_tokens.shape != last_tokens.shape or last_tokens.dim() != 3:
            raise ValueError(
                'PatchContrastiveLoss expects first_tokens and last_tokens '
                'of the same shape (B, N, C), got '
                f'{tuple(first_tokens.shape)} and {tuple(last_tokens.shape)}')
        with torch.autocast(device_type=last_tokens.device.type,
                            enabled=False):
            z1 = F.normalize(first_tokens.detach().float(), dim=-1)
            zl = F.normalize(last_tokens.float(), dim=-1)
            logits = torch.bmm(z1, zl.transpose(1, 2)) / self.temperature
            log_prob = F.log_softmax(logits, dim=-1)  # (B, N_i, N_j)
            loss = -log_prob.diagonal(dim1=1, dim2=2).mean()
        return self.loss_weight * loss
