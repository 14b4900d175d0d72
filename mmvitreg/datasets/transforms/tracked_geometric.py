"""RandAugment's geometric operations, recording the affine they apply.

LV-ViT's released code warps the token-label map with RandAugment's
rotate / shear / translate, so that every token keeps the label of the
image content it now shows. mmpretrain's ``Rotate``, ``Shear`` and
``Translate`` do not say what they drew; these subclasses run them
unchanged and append the 2x3 affine ``A`` they applied (pixel coordinates
of the image, source -> destination, as ``cv2.warpAffine`` uses it) to
``results['geometric_affines']``, which :class:`AlignTokenLabel` replays on
the label map. Use them in RandAugment's ``policies`` in place of the
plain ops, and put ``AlignTokenLabel`` after ``RandAugment``::

    shear   (horizontal):  [[1, m, 0], [0, 1, 0]]      (mmcv.imshear)
    translate (horizontal): [[1, 0, m w], [0, 1, 0]]   (mmcv.imtranslate)
    rotate:  cv2.getRotationMatrix2D(c, -angle, scale), c = ((w-1)/2, (h-1)/2)
"""
from typing import List

import cv2
import numpy as np
from mmpretrain.datasets.transforms import Rotate, Shear, Translate
from mmpretrain.registry import TRANSFORMS

AFFINES_KEY = 'geometric_affines'


class _RecordsAffine:
    """Capture the signed magnitude the parent draws; record its affine."""

    def random_negative(self, value):
        self._drawn = super().random_negative(value)
        return self._drawn

    def transform(self, results: dict) -> dict:
        if 'token_label' in results:
            raise ValueError(
                f'{type(self).__name__} after AlignTokenLabel: the label map '
                'was already resampled; put AlignTokenLabel after RandAugment')
        self._drawn = None
        h, w = results['img'].shape[:2]
        results = super().transform(results)
        if self._drawn is not None:  # not randomly disabled
            results.setdefault(AFFINES_KEY, []).append(
                self.affine(float(self._drawn), h, w))
        return results

    def affine(self, value: float, h: int, w: int) -> np.ndarray:
        raise NotImplementedError


@TRANSFORMS.register_module()
class TrackedShear(_RecordsAffine, Shear):
    """mmpretrain ``Shear`` that records its affine."""

    def affine(self, value: float, h: int, w: int) -> np.ndarray:
        if self.direction == 'horizontal':
            return np.array([[1, value, 0], [0, 1, 0]], np.float64)
        return np.array([[1, 0, 0], [value, 1, 0]], np.float64)


@TRANSFORMS.register_module()
class TrackedTranslate(_RecordsAffine, Translate):
    """mmpretrain ``Translate`` that records its affine (the magnitude is a
    fraction of the image width or height)."""

    def affine(self, value: float, h: int, w: int) -> np.ndarray:
        if self.direction == 'horizontal':
            return np.array([[1, 0, value * w], [0, 1, 0]], np.float64)
        return np.array([[1, 0, 0], [0, 1, value * h]], np.float64)


@TRANSFORMS.register_module()
class TrackedRotate(_RecordsAffine, Rotate):
    """mmpretrain ``Rotate`` that records its affine."""

    def affine(self, value: float, h: int, w: int) -> np.ndarray:
        center = self.center or ((w - 1) * 0.5, (h - 1) * 0.5)
        return cv2.getRotationMatrix2D(center, -value, self.scale)


def affines_on_grid(affines: List[np.ndarray], img_hw,
                    grid) -> List[np.ndarray]:
    """The pixel affines as maps on the token grid, in the order applied.

    Pixel ``p`` of an ``h x w`` image lies at ``g = (p + 0.5) * Wt / w -
    0.5`` on a ``Ht x Wt`` grid (cell centres), so a pixel affine ``A`` acts
    on the grid as ``S A S^-1``. They are not composed into one: each warp
    loses what it moves off the canvas, and a later warp must not bring it
    back (a shear then a translation cut the image straight, not slanted).
    """
    (h, w), (gh, gw) = img_hw, grid
    sx, sy = gw / w, gh / h
    scale = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5],
                      [0, 0, 1]])
    return [(scale @ np.vstack([a, [0, 0, 1]]) @ np.linalg.inv(scale))[:2]
            for a in affines]
