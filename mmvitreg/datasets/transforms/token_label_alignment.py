"""Token labeling, step 2: crop-aligned dense targets from the stored maps
that :class:`~.token_label_loading.LoadTokenLabel` read.

Token labeling (Jiang et al. 2021, ``methods.md`` section 2) supervises every
output patch token ``i`` with a soft target ``y_i`` taken from a machine
annotator's dense score map ``(K, H', W')``. The map must undergo the same
random resized crop, flip and geometric augmentation as the image. Training
pipeline::

    dict(type='LoadImageFromFile'),
    dict(type='LoadTokenLabel', store_root='data/imagenet/token_labels'),
    dict(type='RandomResizedCropWithBox', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies=[...]),  # Tracked* geometric ops
    dict(type='AlignTokenLabel', grid=(14, 14), num_classes=1000,
         expand='batch'),
    ...
    dict(type='PackInputs', algorithm_keys=['token_label']),

Interface with the model side: ``PackInputs(algorithm_keys=['token_label'])``
stores the target as a data field of each ``DataSample``
(``data_sample.token_label``, float32 ``(K, Ht, Wt)``; every location sums to
1 when ``softmax=True``); ``ClsDataPreprocessor`` keeps the data samples, and
the model stacks ``torch.stack([ds.token_label for ds in data_samples])`` ->
``(B, K, Ht, Wt)``; token ``i = r * Wt + c`` of the ViT is grid cell
``(r, c)``.

Why a subclass of ``RandomResizedCrop``: mmpretrain's transform does not
record its crop box (it only updates ``img``/``img_shape``).
:class:`RandomResizedCropWithBox` reuses its logic unchanged and records the
box. mmcv's ``RandomFlip`` records ``flip``/``flip_direction``; RandAugment's
rotate / shear / translate record their affines when written as
``TrackedRotate`` / ``TrackedShear`` / ``TrackedTranslate``
(:mod:`.tracked_geometric`). Any other geometric transform between the crop
and ``AlignTokenLabel`` is not followed by the label map.
"""
from typing import List, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from mmvitreg.structures.token_labels.batch_expand import TokenLabelCrop

from .tracked_geometric import AFFINES_KEY, affines_on_grid


@TRANSFORMS.register_module()
class RandomResizedCropWithBox(RandomResizedCrop):
    """mmpretrain ``RandomResizedCrop`` that records its crop box.

    The crop, its random draw and the resize are the parent's, unchanged.

    **Added Keys:**

    - ``crop_bbox``: float32 ``(x1, y1, x2, y2)``, the cropped region in
      pixel-edge coordinates of the image seen by the crop (``x2 - x1`` =
      crop width; pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)``).
    - ``crop_src_shape``: ``(h, w)`` of that image.

    Raises:
        ValueError: the image was flipped before the crop (``flip`` already
            in ``results``): token labels replay crop then flip.
    """

    def rand_crop_params(self, img: np.ndarray) -> Tuple[int, int, int, int]:
        params = super().rand_crop_params(img)
        self._last_params = params
        return params

    def transform(self, results: dict) -> dict:
        if 'flip' in results:
            raise ValueError(
                'RandomResizedCropWithBox must come before RandomFlip: token '
                'labels replay the crop first, then the flip')
        h, w = results['img'].shape[:2]
        results = super().transform(results)
        oh, ow, th, tw = self._last_params
        results['crop_bbox'] = np.array([ow, oh, ow + tw, oh + th],
                                        dtype=np.float32)
        results['crop_src_shape'] = (h, w)
        return results


def _map_box(results: dict, map_hw: Tuple[int, int]) -> Tuple[float, ...]:
    """The crop box in score-map coordinates ``(x1, y1, x2, y2)``.

    The map covers the image the crop saw (``crop_src_shape``; without a
    recorded crop, the whole map), so coordinates scale by ``W'/w``,
    ``H'/h``.
    """
    mh, mw = map_hw
    if 'crop_bbox' not in results:
        return 0.0, 0.0, float(mw), float(mh)
    h, w = results['crop_src_shape']
    x1, y1, x2, y2 = (float(v) for v in results['crop_bbox'])
    sx, sy = mw / w, mh / h
    return x1 * sx, y1 * sy, x2 * sx, y2 * sy


def roi_align_weights(start: float, end: float, size_in: int,
                      size_out: int) -> np.ndarray:
    """1-D weights of ``torchvision.ops.roi_align(aligned=True)``.

    ROI-align with adaptive sampling is separable: output bin ``o`` of the
    interval ``[start, end]`` averages ``n = ceil((end - start) / size_out)``
    bilinear samples at ``start + (o + (j + 0.5) / n) * bin - 0.5``
    (pixel-centre convention), clamped to ``[0, size_in - 1]`` within one
    pixel of the border and 0 beyond. Returns ``R (size_out, size_in)`` such
    that ``roi_align(M)[c] = R_y @ M[c] @ R_x.T``; done in numpy because
    per-sample torch calls on such tiny tensors cost milliseconds under
    thread contention in data-loader workers.
    """
    length = end - start
    n = max(int(np.ceil(length / size_out)), 1)
    # sample j of bin o sits at (o * n + j + 0.5) * length / (size_out * n)
    rows = np.arange(size_out * n)
    pos = start - 0.5 + (rows + 0.5) * (length / (size_out * n))
    valid = (pos >= -1.0) & (pos <= size_in)
    pos = np.clip(pos, 0, size_in - 1)
    low = pos.astype(np.int64)  # floor: pos >= 0
    frac = (pos - low) * valid
    weights = np.zeros((size_out * n, size_in), np.float32)
    weights[rows, low] = valid - frac
    weights[rows, np.minimum(low + 1, size_in - 1)] += frac
    return weights.reshape(size_out, n, size_in).sum(1) / n


def affine_resample_matrix(affine: np.ndarray,
                           grid: Tuple[int, int]) -> np.ndarray:
    """``W (N, N)`` with ``warped = map.reshape(C, N) @ W.T``.

    ``warped[y, x] = map(A^-1 (x, y))``, bilinear on the ``Ht x Wt`` grid
    (cell centres at integers), a neighbour outside the grid counting 0:
    ``torch.nn.functional.grid_sample(align_corners=False,
    padding_mode='zeros')`` with the same affine, which a test checks.
    """
    gh, gw = grid
    inv = np.linalg.inv(np.vstack([affine, [0, 0, 1]]))
    ys, xs = np.mgrid[0:gh, 0:gw]
    src = inv @ np.stack([xs.ravel(), ys.ravel(), np.ones(gh * gw)])
    x0, y0 = np.floor(src[0]), np.floor(src[1])
    fx, fy = src[0] - x0, src[1] - y0
    rows = np.arange(gh * gw)
    weights = np.zeros((gh * gw, gh * gw), np.float32)
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                      (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = (y0 + dy).astype(np.int64), (x0 + dx).astype(np.int64)
        ok = (yy >= 0) & (yy < gh) & (xx >= 0) & (xx < gw)
        np.add.at(weights, (rows[ok], yy[ok] * gw + xx[ok]), w[ok])
    return weights


@TRANSFORMS.register_module()
class AlignTokenLabel(BaseTransform):
    """Crop, resample and flip the top-k map to the token grid.

    With the map's top-k entries ``(s, c)`` at each location (``c`` class
    indices), the target on the ``Ht x Wt`` grid is

        p = softmax_k(s)               (per location, if ``softmax``)
        M[c, y, x] = p[j, y, x]  where c = c[j, y, x], else 0  (K, H', W')
        T = flip(roi_align(M, box, (Ht, Wt)))                   (K, Ht, Wt)

    then, when RandAugment's geometric operations ran as the ``Tracked*``
    ops of :mod:`.tracked_geometric` (they record their affines in
    ``geometric_affines``), ``T`` is warped by the same affines mapped to the
    token grid (bilinear, 0 where the image was padded: such tokens get no
    label, as in the released code). ``box`` is the image's crop box scaled
    to the map; ``roi_align`` is
    torchvision's with ``aligned=True`` and adaptive sampling (bilinear
    samples at bin centres, ``ceil(box / grid)`` of them averaged per bin
    when downsampling), computed as two small matrix products (see
    :func:`roi_align_weights`; equal to torchvision's up to float rounding,
    which a test checks); ``flip`` follows ``flip_direction``. Because
    each target is a convex combination of map locations, ``T`` is 0 for
    classes outside every contributing location's top-k and, with
    ``softmax=True``, sums to 1 at every token. (The released code scatters
    raw logits, ROI-aligns them and applies a softmax over all ``K`` classes
    afterwards; here the softmax runs over the stored top-k first, which
    keeps the scores outside the top-k at exactly 0.) With ``softmax=False``
    the raw scores are resampled (0 outside the top-k).

    Only the classes present in the map are resampled (``|C| <= k H' W'``),
    then scattered into ``K`` channels.

    **Required Keys:** ``token_label_scores``, ``token_label_indices``;
    optional ``crop_bbox``/``crop_src_shape`` (from
    :class:`RandomResizedCropWithBox`), ``flip``/``flip_direction`` (from
    ``RandomFlip``, which must come after the crop) and
    ``geometric_affines`` (from ``TrackedRotate``/``TrackedShear``/
    ``TrackedTranslate`` inside RandAugment, which must come before this).

    **Added Keys:** ``token_label`` float32 tensor ``(K, Ht, Wt)``, or with
    ``expand='batch'`` a :class:`~mmvitreg.token_labels.TokenLabelCrop`
    (the compact map, its box and flips) that the model expands per batch on
    its device (:func:`~mmvitreg.token_labels.expand_token_labels`, same
    operator, same result up to float rounding). Pack it with
    ``PackInputs(algorithm_keys=['token_label'])`` either way.
    **Removed Keys:** the two ``token_label_*`` inputs.

    Args:
        grid: token grid ``(Ht, Wt)`` (or an int for a square grid).
        num_classes: ``K``.
        softmax: normalise over the stored top-k. Defaults to True.
        expand: ``'transform'`` (here, per sample) or ``'batch'`` (in the
            model; keeps the loader as fast as without token labels, see
            ``benchmarks/token_label_loader.py``). Defaults to
            ``'transform'``.
    """

    def __init__(self,
                 grid: Union[int, Sequence[int]] = (14, 14),
                 num_classes: int = 1000,
                 softmax: bool = True,
                 expand: str = 'transform'):
        self.grid = (grid, grid) if isinstance(grid, int) else tuple(grid)
        if len(self.grid) != 2 or min(self.grid) < 1:
            raise ValueError(f'grid must be (Ht, Wt) >= 1, got {grid}')
        if expand not in ('transform', 'batch'):
            raise ValueError("expand must be 'transform' or 'batch', got "
                             f'{expand!r}')
        self.num_classes = num_classes
        self.softmax = softmax
        self.expand = expand

    @staticmethod
    def _flips(results: dict) -> Tuple[bool, bool]:
        """(horizontal, vertical) flips applied after the crop."""
        if not results.get('flip', False):
            return False, False
        direction = results.get('flip_direction', 'horizontal')
        return (direction in ('horizontal', 'diagonal'),
                direction in ('vertical', 'diagonal'))

    def _grid_affines(self, results: dict) -> List[np.ndarray]:
        """The recorded geometric affines, on the token grid, in order."""
        affines = results.pop(AFFINES_KEY, None)
        if not affines:
            return []
        return affines_on_grid(affines, results['img'].shape[:2], self.grid)

    def transform(self, results: dict) -> dict:
        affines = self._grid_affines(results)
        if self.expand == 'batch':
            scores = results.pop('token_label_scores')
            hflip, vflip = self._flips(results)
            results['token_label'] = TokenLabelCrop(
                scores=scores,
                indices=results.pop('token_label_indices'),
                box=_map_box(results, scores.shape[1:]),
                hflip=hflip,
                vflip=vflip,
                grid=self.grid,
                num_classes=self.num_classes,
                softmax=self.softmax,
                affines=affines)
            return results
        scores = results.pop('token_label_scores').astype(np.float32)
        indices = results.pop('token_label_indices').astype(np.int64)
        k, mh, mw = scores.shape
        bad = indices[(indices < 0) | (indices >= self.num_classes)]
        if bad.size:
            raise ValueError(
                f'token label of {results.get("img_path")} has class '
                f'{bad[0]} outside [0, {self.num_classes})')
        # the classes present, and each entry's row among them
        present = np.zeros(self.num_classes, np.bool_)
        present[indices] = True
        classes = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[indices]
        if self.softmax:
            scores = np.exp(scores - scores.max(0, keepdims=True))
            scores /= scores.sum(0, keepdims=True)
        # top-k classes of a location are distinct: plain assignment
        dense = np.zeros((len(classes), mh * mw), np.float32)
        dense[inverse.reshape(k, -1), np.arange(mh * mw)] = scores.reshape(
            k, -1)
        dense = dense.reshape(-1, mh, mw)
        x1, y1, x2, y2 = _map_box(results, (mh, mw))
        ry = roi_align_weights(y1, y2, mh, self.grid[0])
        rx = roi_align_weights(x1, x2, mw, self.grid[1])
        out = ry @ dense @ rx.T  # (|C|, Ht, Wt)
        hflip, vflip = self._flips(results)
        if hflip:
            out = out[:, :, ::-1]
        if vflip:
            out = out[:, ::-1]
        for affine in affines:  # one after the other, as on the image
            warp = affine_resample_matrix(affine, self.grid)
            out = (out.reshape(len(out), -1) @ warp.T).reshape(out.shape)
        target = np.zeros((self.num_classes, *self.grid), np.float32)
        target[classes] = out
        results['token_label'] = torch.from_numpy(target)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(grid={self.grid}, '
                f'num_classes={self.num_classes}, softmax={self.softmax}, '
                f'expand={self.expand!r})')
