"""Patch-wise mixing batch augmentation (Gong et al. 2021, "Vision
Transformers with Patch Diversification")."""
from typing import NamedTuple, Optional, Tuple

import numpy as np
import torch
from mmpretrain.models.utils.batch_augments import Mixup
from mmpretrain.registry import BATCH_AUGMENTS

from .grid_box import kept_fraction, sample_grid_box


class PatchMixingRecord(NamedTuple):
    """What one :class:`PatchMixing` call did.

    Attributes:
        patch_source (Tensor): ``(B, gh, gw)`` long, the batch index of the
            image each patch of the mixed image was taken from.
        source_score (Tensor): ``(B, K)``, the scores before mixing.
    """
    patch_source: torch.Tensor
    source_score: torch.Tensor


@BATCH_AUGMENTS.register_module()
class PatchMixing(Mixup):
    r"""CutMix at patch granularity, recording the source of every patch.

    Image ``b`` receives a rectangular box of patches from its partner
    ``B-1-b`` (the batch flipped; with an odd batch the middle image mixes
    with itself). The box is aligned to the ``patch_size`` grid; its area
    follows :math:`\lambda \sim Beta(\alpha, \alpha)` (side
    :math:`\sqrt{1-\lambda}` of the grid, clipped at the border) and the
    image target is the area-weighted mix
    :math:`\bar\lambda y_b + (1-\bar\lambda) y_{B-1-b}`, with
    :math:`\bar\lambda` the exact fraction of patches kept from ``b``.

    Same call signature as mmpretrain's ``CutMix``
    (``(batch_inputs, batch_score) -> (mixed_inputs, mixed_score)``), so it
    composes with ``Mixup``/``CutMix`` in ``train_cfg.augments``
    (``RandomBatchAugment``).

    How the patch sources reach the model: mmpretrain's
    ``ClsDataPreprocessor`` only passes ``(inputs, gt_score)`` on, so every
    call stores a :class:`PatchMixingRecord` in :attr:`last_record`.
    ``DiverseDataPreprocessor`` (the default preprocessor of
    ``DiverseImageClassifier``) clears it before the batch augmentation,
    pops it afterwards and writes per sample ``patch_source`` (``(gh, gw)``
    long, batch index of each patch's source image) and ``unmixed_score``
    (``(K,)``) into the ``DataSample``. Use ``patch_size`` equal to the
    stride of the tokens the mixing loss classifies (16 for DeiT, 32 for
    the last stage of Swin).

    Args:
        alpha (float): Beta distribution parameter. Defaults to 1.0.
        patch_size (int): Side of the grid cells in pixels. Defaults to 16.
    """

    def __init__(self, alpha: float = 1.0, patch_size: int = 16) -> None:
        super().__init__(alpha=float(alpha))
        if int(patch_size) < 1:
            raise ValueError(
                f'PatchMixing: patch_size must be >= 1, got {patch_size}')
        self.patch_size = int(patch_size)
        self.last_record: Optional[PatchMixingRecord] = None

    def pop_record(self) -> Optional[PatchMixingRecord]:
        """Return :attr:`last_record` and clear it."""
        record, self.last_record = self.last_record, None
        return record

    def mix(self, batch_inputs: torch.Tensor,
            batch_scores: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Args:
            batch_inputs (Tensor): Images ``(B, 3, H, W)``, ``H`` and ``W``
                multiples of ``patch_size``.
            batch_scores (Tensor): One-hot/soft targets ``(B, K)``.

        Returns:
            tuple: Mixed images ``(B, 3, H, W)`` and targets ``(B, K)``.
        """
        height, width = batch_inputs.shape[-2:]
        size = self.patch_size
        if height % size or width % size:
            raise ValueError(
                f'PatchMixing: input size {height}x{width} is not a multiple '
                f'of patch_size={size}')
        grid = (height // size, width // size)
        batch_size = batch_inputs.size(0)
        device = batch_inputs.device
        partner = torch.arange(batch_size - 1, -1, -1, device=device)

        box = sample_grid_box(grid, np.random.beta(self.alpha, self.alpha))
        y1, y2, x1, x2 = box
        lam = kept_fraction(grid, box)

        patch_source = torch.arange(batch_size, device=device).view(
            -1, 1, 1).repeat(1, *grid)
        patch_source[:, y1:y2, x1:x2] = partner.view(-1, 1, 1)
        self.last_record = PatchMixingRecord(patch_source,
                                             batch_scores.clone())

        pixels = (slice(None), slice(None), slice(y1 * size, y2 * size),
                  slice(x1 * size, x2 * size))
        batch_inputs[pixels] = batch_inputs[partner][pixels]
        mixed_scores = lam * batch_scores + (1 - lam) * batch_scores[partner]
        return batch_inputs, mixed_scores
