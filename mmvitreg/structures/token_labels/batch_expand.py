"""Token labels expanded per batch, on the model's device.

``AlignTokenLabel(expand='batch')`` leaves the stored top-k map compact in
the data loader (a :class:`TokenLabelCrop`: float16 scores, int16 indices,
the crop box in map coordinates and the flips) and the model calls
:func:`expand_token_labels` on the whole batch, as the released LV-ViT code
does: the ``K``-channel map is only ever built on the device, once per
batch, instead of once per sample in a loader worker and then copied.

For every sample ``b`` with top-k entries ``(s, c)`` at each map location::

    p = softmax_k(s)                                  (if ``softmax``)
    M_b[u, y, x] = p[j, y, x]  where C_b[u] = c[j, y, x]    (B, |C|, H', W')
    T_b = flip_b(roi_align(M_b, box_b, (Ht, Wt)))           (B, |C|, Ht, Wt)
    target[b, C_b[u]] = T_b[u], 0 for classes not in C_b    (B, K, Ht, Wt)

``C_b`` is the set of classes present in sample ``b``'s own map
(``|C_b| <= k H' W'``, in practice a few dozen of ``K``; the batch is padded
to the largest ``|C_b|``), so the resampling never touches classes a map
does not mention: ``B x max|C_b|`` channels, not ``B x K`` (at ImageNet
sizes on a CPU, measured: 33 ms per batch of 64 instead of 256 ms over
the batch's class union). ``roi_align`` is torchvision's with
``aligned=True`` and adaptive sampling, the same operator
``AlignTokenLabel(expand='transform')`` evaluates per sample with two small
matrix products; the two paths agree up to float rounding (tested).
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align


@dataclass
class TokenLabelCrop:
    """One sample's compact token label and the crop it must follow.

    Attributes:
        scores: float16 ``(k, H', W')`` top-k scores of the stored map.
        indices: int16/int32 ``(k, H', W')`` their class indices.
        box: ``(x1, y1, x2, y2)`` crop box in map coordinates (pixel edges).
        hflip / vflip: whether the crop was flipped after the crop.
        grid: the token grid ``(Ht, Wt)``.
        num_classes: ``K``.
        softmax: normalise the scores over the top-k first.
        affines: 2x3 warps on the token grid after the flips (RandAugment's
            recorded geometric ops), applied one after the other.
    """
    scores: np.ndarray
    indices: np.ndarray
    box: Tuple[float, float, float, float]
    hflip: bool
    vflip: bool
    grid: Tuple[int, int]
    num_classes: int
    softmax: bool = True
    affines: List[np.ndarray] = field(default_factory=list)


def _common(crops: Sequence[TokenLabelCrop], attr: str):
    values = {getattr(c, attr) for c in crops}
    if len(values) != 1:
        raise ValueError(f'token labels of one batch disagree on {attr}: '
                         f'{sorted(values)}')
    return values.pop()


def expand_token_labels(crops: Sequence[TokenLabelCrop],
                        device: torch.device = None) -> torch.Tensor:
    """Dense targets ``(B, K, Ht, Wt)`` (float32) for a batch of crops.

    Raises:
        ValueError: the crops differ in grid, ``K``, softmax or map shape,
            or a class index lies outside ``[0, K)``.
    """
    grid = _common(crops, 'grid')
    num_classes = _common(crops, 'num_classes')
    softmax = _common(crops, 'softmax')
    shapes = {c.scores.shape for c in crops}
    if len(shapes) != 1:
        raise ValueError('token-label maps of one batch have different '
                         f'shapes {sorted(shapes)}: generate them at one '
                         'resolution')
    scores = torch.from_numpy(np.stack([c.scores for c in crops]))
    indices = torch.from_numpy(np.stack([c.indices for c in crops]))
    scores = scores.to(device).float()  # (B, k, H', W')
    indices = indices.to(device).long()
    bad = indices[(indices < 0) | (indices >= num_classes)]
    if len(bad):
        raise ValueError(f'token label has class {int(bad[0])} '
                         f'outside [0, {num_classes})')
    if softmax:
        scores = scores.softmax(1)
    b, k, mh, mw = scores.shape
    classes, slots = per_sample_classes(indices.flatten(1))
    # top-k classes of a location are distinct: scatter writes each once
    dense = scores.new_zeros(b, classes.size(1), mh * mw).scatter_(
        1, slots.view(b, k, mh * mw), scores.flatten(2))
    dense = dense.view(b, -1, mh, mw)
    boxes = torch.tensor([[i, *c.box] for i, c in enumerate(crops)],
                         dtype=torch.float32, device=scores.device)
    out = roi_align(dense, boxes, output_size=grid, spatial_scale=1.0,
                    sampling_ratio=-1, aligned=True)  # (B, |C|, Ht, Wt)
    hflip = torch.tensor([c.hflip for c in crops], device=out.device)
    vflip = torch.tensor([c.vflip for c in crops], device=out.device)
    out = torch.where(hflip[:, None, None, None], out.flip(-1), out)
    out = torch.where(vflip[:, None, None, None], out.flip(-2), out)
    for step in range(max(len(c.affines) for c in crops)):
        out = warp_affine(out, [
            c.affines[step] if step < len(c.affines) else None for c in crops
        ])
    target = out.new_zeros(b, num_classes, *grid)
    # padding slots hold class 0 and all-zero maps: adding them changes
    # nothing
    return target.scatter_add_(
        1, classes[:, :, None, None].expand(-1, -1, *grid), out)


def warp_affine(maps: torch.Tensor,
                affines: Sequence[Optional[np.ndarray]]) -> torch.Tensor:
    """``out[b](x, y) = maps[b](A_b^-1 (x, y))`` for ``(B, C, H, W)`` maps
    and 2x3 affines on their pixel grid (None: identity); bilinear, zeros
    outside (``grid_sample``, ``align_corners=False``)."""
    b, _, h, w = maps.shape
    # pixel -> normalised coordinates: x_n = (2 x + 1) / W - 1
    norm = np.array([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]])
    thetas = []
    for a in affines:
        a = np.eye(3) if a is None else np.vstack([a, [0, 0, 1]])
        thetas.append((norm @ np.linalg.inv(a) @ np.linalg.inv(norm))[:2])
    theta = torch.tensor(np.stack(thetas), dtype=maps.dtype,
                         device=maps.device)
    grid = F.affine_grid(theta, list(maps.shape), align_corners=False)
    return F.grid_sample(maps, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=False)


def per_sample_classes(indices: torch.Tensor):
    """Each sample's distinct classes and every entry's slot among them.

    Args:
        indices: ``(B, M)`` class indices.

    Returns:
        ``classes (B, C)``: sample ``b``'s distinct classes in slots
        ``0 .. n_b - 1`` (sorted), 0 in the padding slots up to
        ``C = max_b n_b``; ``slots (B, M)``: the slot of each entry, so
        ``classes.gather(1, slots) == indices``.
    """
    ordered, order = indices.sort(1)
    new = torch.ones_like(ordered, dtype=torch.bool)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    rank = new.cumsum(1) - 1  # slot of each sorted entry
    classes = ordered.new_zeros(len(indices), int(rank[:, -1].max()) + 1)
    classes.scatter_(1, rank, ordered)
    return classes, torch.empty_like(rank).scatter_(1, order, rank)
