"""Binary cross-entropy on binarised Mixup/CutMix targets (DeiT III)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


def binarize_targets(target: torch.Tensor, num_classes: int,
                     threshold: float = 0.0) -> torch.Tensor:
    """Turn class indices or soft scores into 0/1 multi-label targets.

    Args:
        target (Tensor): Class indices, shape (N,) (or (N, 1)), or soft
            scores (e.g. Mixup/CutMix ``gt_score``), shape (N, C).
        num_classes (int): C.
        threshold (float): A class is positive where ``score > threshold``.

    Returns:
        Tensor: float targets in {0, 1}, shape (N, C).
    """
    if target.dim() == 2 and target.size(1) == num_classes:
        return (target > threshold).float()
    if target.dim() == 2 and target.size(1) == 1:
        target = target.squeeze(1)
    if target.dim() != 1 or target.dtype.is_floating_point:
        raise ValueError('ThresholdedBCELoss: target must be class indices '
                         f'(N,) or scores (N, {num_classes}), got '
                         f'{tuple(target.shape)} {target.dtype}')
    return F.one_hot(target.long(), num_classes).float()


@MODELS.register_module()
class ThresholdedBCELoss(nn.Module):
    r"""BCE with logits on targets binarised by ``target > threshold``.

    DeiT III's ImageNet-1k loss (``--bce-loss``): Mixup/CutMix produce soft
    targets ``y = lam * onehot(a) + (1 - lam) * onehot(b)``; they are
    binarised, ``t = 1[y > threshold]`` (threshold 0: both mixed classes
    become 1), and

    .. math::
        L = \frac{1}{N C} \sum_{n, c} -\big[t_{nc} \log \sigma(x_{nc})
            + (1 - t_{nc}) \log (1 - \sigma(x_{nc}))\big]

    i.e. ``torch.nn.BCEWithLogitsLoss()`` (mean over all N x C entries) on
    ``t``. Needs label smoothing 0 in the batch augment: smoothed targets are
    > 0 everywhere and would all become 1.

    Differences from mmpretrain's ``CrossEntropyLoss(use_sigmoid=True)``: that
    loss uses the soft targets as they are, rejects class-index targets, and
    inside ``ClsHead`` (which passes ``avg_factor=N``) returns the sum over
    classes averaged over samples, C times the mean above. Here
    ``avg_factor`` counts samples, so the ``'mean'`` reduction is
    ``sum / (avg_factor * C)`` and equals the released per-entry mean.

    Shapes: ``cls_score`` (N, C) logits; ``label`` (N,) class indices or
    (N, C) scores; optional ``weight`` (N,) per-sample weights.

    Args:
        threshold (float): Binarisation threshold. Defaults to 0.0.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'`` (-> (N, C)).
            Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 threshold: float = 0.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in ('mean', 'sum', 'none'):
            raise ValueError('ThresholdedBCELoss: `reduction` must be '
                             f"'mean', 'sum' or 'none', got {reduction!r}")
        self.threshold = threshold
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss (fp32 internally)."""
        if cls_score.dim() != 2:
            raise ValueError('ThresholdedBCELoss: cls_score must be (N, C), '
                             f'got {tuple(cls_score.shape)}')
        reduction = reduction_override or self.reduction
        num_samples, num_classes = cls_score.shape
        target = binarize_targets(label, num_classes, self.threshold)
        if target.size(0) != num_samples:
            raise ValueError('ThresholdedBCELoss: cls_score has '
                             f'{num_samples} rows but target {target.size(0)}')
        loss = F.binary_cross_entropy_with_logits(
            cls_score.float(), target.to(cls_score.device), reduction='none')
        if weight is not None:
            loss = loss * weight.float().reshape(-1, 1)
        if reduction == 'mean':
            samples = num_samples if avg_factor is None else avg_factor
            loss = loss.sum() / (samples * num_classes)
        elif reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'threshold={self.threshold}, reduction={self.reduction}, '
                f'loss_weight={self.loss_weight}')
