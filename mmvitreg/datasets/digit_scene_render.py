"""Rendering of the digit scenes (segmentation part of the digits data set).

Pure functions of a ``numpy.random.Generator`` and the 8x8 scans; the
on-disk layouts are written by :mod:`mmvitreg.datasets.digits`, whose module
docstring states the labelling rule (digit where the upscaled grey value
``g >= 0.5``, ignored rim where ``0.25 < g < 0.5``, background elsewhere).
"""
from typing import List, Tuple

import cv2
import numpy as np

LOW_THRESHOLD = 0.25
HIGH_THRESHOLD = 0.5
#: Label values in the ADE annotation files.
ADE_UNLABELED = 0
ADE_BACKGROUND = 1
ADE_DIGIT_OFFSET = 2
IGNORE_INDEX = 255


def upscale(scan: np.ndarray, size: int) -> np.ndarray:
    """Bicubic upscale of an (8, 8) map in [0, 1] to (size, size), clipped."""
    out = cv2.resize(scan, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(out, 0.0, 1.0)


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def render_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth texture plus pixel noise around a dark random colour.

    Returns:
        float32 (size, size, 3) RGB in [0, 255].
    """
    base = rng.uniform(0, 40, size=3)
    coarse = rng.normal(0, 8, size=(4, 4, 3)).astype(np.float32)
    texture = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_LINEAR)
    noise = rng.normal(0, 4, size=(size, size, 3))
    return np.clip(base + texture + noise, 0, 255).astype(np.float32)


def pick_cells(rng: np.random.Generator, scene_size: int,
               cell: int) -> List[Tuple[int, int]]:
    """Top-left corners ``(y, x)`` of 1 to ``n - 1`` distinct cells of the
    ``n = (scene_size // cell) ** 2`` cells of side ``cell`` (1 when the
    scene holds a single cell), in random order."""
    per_side = scene_size // cell
    n = per_side * per_side
    num = int(rng.integers(1, n)) if n > 1 else 1
    return [(int(i) // per_side * cell, int(i) % per_side * cell)
            for i in rng.permutation(n)[:num]]


def render_scene(rng: np.random.Generator, scans: np.ndarray,
                 labels: np.ndarray, pool: np.ndarray, scene_size: int,
                 digit_size: int = 32) -> Tuple[np.ndarray, np.ndarray]:
    """Paste scans drawn from ``pool`` into cells of a textured background.

    The digits keep the classification images' scale and grid: each is
    upscaled to ``digit_size`` (the ImageNet-layout image side) and fills
    one cell of the ``digit_size`` grid, grey ink of a random intensity in
    [200, 255] on a dark texture, so a backbone pretrained on the
    classification images sees digits as it was trained to.

    Returns:
        tuple: RGB uint8 (H, W, 3) image and the uint8 (H, W) ADE-coded mask
        (0 = ambiguous, 1 = background, 2 + d = digit d).
    """
    if digit_size > scene_size:
        raise ValueError(f'digit_size {digit_size} > scene_size {scene_size}')
    canvas = render_background(rng, scene_size)
    mask = np.full((scene_size, scene_size), ADE_BACKGROUND, dtype=np.uint8)
    for y, x in pick_cells(rng, scene_size, digit_size):
        k = int(pool[rng.integers(len(pool))])
        ink = upscale(scans[k], digit_size)[..., None]
        grey = rng.uniform(200, 255)
        box = (slice(y, y + digit_size), slice(x, x + digit_size))
        canvas[box] = canvas[box] * (1 - ink) + grey * ink
        sub = mask[box]
        sub[(ink[..., 0] > LOW_THRESHOLD) & (ink[..., 0] < HIGH_THRESHOLD)] = \
            ADE_UNLABELED
        sub[ink[..., 0] >= HIGH_THRESHOLD] = ADE_DIGIT_OFFSET + int(labels[k])
    return to_uint8(canvas), mask


def ade_to_train_ids(mask: np.ndarray) -> np.ndarray:
    """ADE coding -> train ids, as mmseg's ``reduce_zero_label`` does."""
    out = mask.astype(np.int64) - 1
    out[mask == ADE_UNLABELED] = IGNORE_INDEX
    return out.astype(np.uint8)
