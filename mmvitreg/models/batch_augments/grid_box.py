"""The CutMix box on a grid of cells, shared by ``PatchMixing`` (image
patches) and ``MixToken`` (tokens after the patch embedding)."""
from typing import Tuple

import numpy as np
import torch

Box = Tuple[int, int, int, int]


# Host-side numpy draws: run eagerly under torch.compile (TorchDynamo would
# trace ``lam`` as an ndarray and fail on ``round``).
@torch.compiler.disable
def sample_grid_box(grid: Tuple[int, int], lam: float) -> Box:
    """Sample a box ``(y1, y2, x1, x2)`` in whole cells of a ``(h, w)``
    grid for the kept fraction ``lam``, CutMix-style: side
    ``sqrt(1 - lam)`` of the grid (rounded), uniform centre (numpy's global
    generator), clipped at the border."""
    grid_h, grid_w = grid
    ratio = np.sqrt(1. - lam)
    cut_h, cut_w = int(round(grid_h * ratio)), int(round(grid_w * ratio))
    cy, cx = np.random.randint(grid_h), np.random.randint(grid_w)
    y1, x1 = cy - cut_h // 2, cx - cut_w // 2
    return (int(np.clip(y1, 0, grid_h)), int(np.clip(y1 + cut_h, 0, grid_h)),
            int(np.clip(x1, 0, grid_w)), int(np.clip(x1 + cut_w, 0, grid_w)))


def kept_fraction(grid: Tuple[int, int], box: Box) -> float:
    """:math:`\\bar\\lambda`: the exact fraction of cells outside ``box``
    (after clipping, so it may differ from the sampled ``lam``)."""
    y1, y2, x1, x2 = box
    return 1. - (y2 - y1) * (x2 - x1) / float(grid[0] * grid[1])
