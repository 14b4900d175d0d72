"""The image-level target of a batch of classification samples."""
from typing import List

import torch
from mmpretrain.structures import DataSample


def class_targets(data_samples: List[DataSample]) -> torch.Tensor:
    """``(B, K)`` ``gt_score`` when the samples carry one (a batch augment
    or label smoothing wrote it), else ``(B,)`` ``gt_label`` (each
    sample's first label)."""
    if 'gt_score' in data_samples[0]:
        return torch.stack([s.gt_score for s in data_samples])
    return torch.cat([s.gt_label[:1] for s in data_samples])
