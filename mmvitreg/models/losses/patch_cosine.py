"""Patch-wise cosine loss (Gong et al. 2021, "Vision Transformers with
Patch Diversification")."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


def mean_patch_cosine(tokens: torch.Tensor) -> torch.Tensor:
    """Mean pairwise cosine similarity of different patches, per image.

    ``(|s|^2 - sum_i |u_i|^2) / (N (N - 1))`` with ``u_i = h_i / |h_i|`` and
    ``s = sum_i u_i``: the mean over ordered pairs ``i != j`` of
    ``cos(h_i, h_j)`` in O(N C) memory. Float32 with autocast off. A zero
    token counts as orthogonal to every other token. Shared by
    :class:`PatchCosineLoss` and the over-smoothing monitor
    (:mod:`mmvitreg.models.utils.patch_similarity`).

    Args:
        tokens (Tensor): Patch tokens ``(B, N, C)``, class token excluded.

    Returns:
        Tensor: ``(B,)`` similarities in ``[-1/(N-1), 1]``.
    """
    if tokens.dim() != 3 or tokens.size(1) < 2:
        raise ValueError('patch cosine similarity expects patch tokens of '
                         f'shape (B, N>=2, C), got {tuple(tokens.shape)}')
    num = tokens.size(1)
    with torch.autocast(device_type=tokens.device.type, enabled=False):
        unit = F.normalize(tokens.float(), dim=-1)  # (B, N, C)
        total = unit.sum(dim=1)  # (B, C)
        self_sim = unit.pow(2).sum(dim=(1, 2))  # (B,)
        return (total.pow(2).sum(dim=-1) - self_sim) / (num * (num - 1))


@MODELS.register_module()
class PatchCosineLoss(nn.Module):
    r"""Mean pairwise cosine similarity between different patch tokens.

    .. math::
        L_{cos} = \mathrm{mean}_b \frac{1}{N(N-1)} \sum_{i \ne j}
        \frac{\langle h_i, h_j \rangle}{|h_i| |h_j|}

    Identical patches give 1, mutually orthogonal patches give 0. Computed
    in :math:`O(BNC)` memory: with :math:`u_i = h_i / |h_i|` and
    :math:`s = \sum_i u_i`, :math:`\sum_{i \ne j} \langle u_i, u_j \rangle
    = |s|^2 - \sum_i |u_i|^2` (:math:`= |s|^2 - N` for non-zero tokens; an
    all-zero token has :math:`u_i = 0` and contributes 0 to every pair).
    Runs in fp32 even under autocast.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Args:
            tokens (Tensor): Patch tokens ``(B, N, C)``, class token excluded,
                ``N >= 2``.

        Returns:
            Tensor: Scalar ``loss_weight * L_cos``.
        """
        return self.loss_weight * mean_patch_cosine(tokens).mean()
