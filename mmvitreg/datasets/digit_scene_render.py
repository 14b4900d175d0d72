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
    base = rng.uniform(0, 80, size=3)
    coarse = rng.normal(0, 15, size=(4, 4, 3)).astype(np.float32)
    texture = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_LINEAR)
    noise = rng.normal(0, 6, size=(size, size, 3))
    return np.clip(base + texture + noise, 0, 255).astype(np.float32)


def place_boxes(rng: np.random.Generator,
                scene_size: int,
                num: int,
                min_side: int,
                max_side: int,
                max_tries: int = 50) -> List[Tuple[int, int, int]]:
    """Random pairwise-disjoint square boxes ``(y, x, side)`` in the canvas.

    A box that finds no free position in ``max_tries`` draws is dropped, so a
    scene may hold fewer than ``num`` digits (never fewer than one: the first
    box always fits).
    """
    boxes: List[Tuple[int, int, int]] = []
    for _ in range(num):
        side = int(rng.integers(min_side, max_side + 1))
        for _ in range(max_tries):
            y = int(rng.integers(0, scene_size - side + 1))
            x = int(rng.integers(0, scene_size - side + 1))
            if all(y + side <= by or by + bs <= y or x + side <= bx or bx +
                   bs <= x for by, bx, bs in boxes):
                boxes.append((y, x, side))
                break
    return boxes


def render_scene(rng: np.random.Generator, scans: np.ndarray,
                 labels: np.ndarray, pool: np.ndarray,
                 scene_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Paste 1-4 scans drawn from ``pool`` onto a textured background.

    Returns:
        tuple: RGB uint8 (H, W, 3) image and the uint8 (H, W) ADE-coded mask
        (0 = ambiguous, 1 = background, 2 + d = digit d).
    """
    min_side = max(8, scene_size // 4)
    max_side = max(min_side, scene_size // 2)
    canvas = render_background(rng, scene_size)
    mask = np.full((scene_size, scene_size), ADE_BACKGROUND, dtype=np.uint8)
    num = int(rng.integers(1, 5))
    for y, x, side in place_boxes(rng, scene_size, num, min_side, max_side):
        k = int(pool[rng.integers(len(pool))])
        ink = upscale(scans[k], side)
        colour = rng.uniform(150, 255, size=3) * rng.uniform(0.8, 1.0)
        region = canvas[y:y + side, x:x + side]
        canvas[y:y + side, x:x + side] = (
            region * (1 - ink[..., None]) + colour * ink[..., None])
        sub = mask[y:y + side, x:x + side]
        sub[(ink > LOW_THRESHOLD) & (ink < HIGH_THRESHOLD)] = ADE_UNLABELED
        sub[ink >= HIGH_THRESHOLD] = ADE_DIGIT_OFFSET + int(labels[k])
    return to_uint8(canvas), mask


def ade_to_train_ids(mask: np.ndarray) -> np.ndarray:
    """ADE coding -> train ids, as mmseg's ``reduce_zero_label`` does."""
    out = mask.astype(np.int64) - 1
    out[mask == ADE_UNLABELED] = IGNORE_INDEX
    return out.astype(np.uint8)
