"""Position-embedding resizing for converted ViT checkpoints.

A ViT trained at ``H x W`` pixels with patch size ``P`` holds a position
embedding of shape ``(1, E + Gh * Gw, C)`` with ``Gh = H / P`` and
``E`` extra tokens (class/distillation tokens) whose embeddings come first;
DeiT III (timm ``no_embed_class=True``) stores no extra-token entries
(``E = 0``). For a new input size ``H' x W'`` the patch part is reshaped to
the ``(C, Gh, Gw)`` grid, interpolated (bicubic) to ``(C, Gh', Gw')`` and
flattened back; the ``E`` extra entries are kept unchanged. The
interpolation itself is mmpretrain's :func:`resize_pos_embed`.
"""
import math
from typing import Sequence, Tuple, Union

import torch
from mmpretrain.models.utils import resize_pos_embed

Size = Union[int, Sequence[int]]


def to_hw(size: Size) -> Tuple[int, int]:
    """``8 -> (8, 8)``; ``(8, 6) -> (8, 6)``."""
    if isinstance(size, int):
        return size, size
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f'expected an int or (H, W), got {size}')
    return size


def infer_grid(num_positions: int, num_extra_tokens: int) -> Tuple[int, int]:
    """Square patch grid ``(G, G)`` of a ``(1, E + G * G, C)`` embedding.

    Raises:
        ValueError: when ``num_positions - num_extra_tokens`` is not a
            perfect square (non-square grids must be given explicitly).
    """
    n = num_positions - num_extra_tokens
    side = math.isqrt(max(n, 0))
    if n <= 0 or side * side != n:
        raise ValueError(
            f'pos_embed holds {num_positions} positions; minus '
            f'{num_extra_tokens} extra token(s) that is {n}, not a square '
            'grid. Pass the source grid explicitly.')
    return side, side


def grid_for_image(img_size: Size, patch_size: Size) -> Tuple[int, int]:
    """Patch grid ``(H // Ph, W // Pw)`` of an image, checking divisibility
    as mmpretrain's ``PatchEmbed`` (stride = kernel = patch size) would floor
    it."""
    (h, w), (ph, pw) = to_hw(img_size), to_hw(patch_size)
    if h < ph or w < pw:
        raise ValueError(f'image size {(h, w)} is smaller than the patch '
                         f'size {(ph, pw)}')
    return h // ph, w // pw


def resize_grid_pos_embed(pos_embed: torch.Tensor,
                          dst_grid: Size,
                          num_extra_tokens: int,
                          src_grid: Size = None,
                          mode: str = 'bicubic') -> torch.Tensor:
    """Resize ``(1, E + Gh * Gw, C)`` to ``(1, E + Gh' * Gw', C)``.

    Args:
        pos_embed: the checkpoint's position embedding, shape (1, L, C).
        dst_grid: target patch grid ``G'`` or ``(Gh', Gw')``.
        num_extra_tokens: ``E``, leading entries kept as they are.
        src_grid: source grid; inferred as a square when omitted.
        mode: ``F.interpolate`` mode. Defaults to 'bicubic' (mmpretrain's).

    Returns:
        The resized embedding in the input's dtype.
    """
    if pos_embed.ndim != 3 or pos_embed.shape[0] != 1:
        raise ValueError('pos_embed must have shape (1, L, C), got '
                         f'{tuple(pos_embed.shape)}')
    src = (infer_grid(pos_embed.shape[1], num_extra_tokens)
           if src_grid is None else to_hw(src_grid))
    dst = to_hw(dst_grid)
    out = resize_pos_embed(pos_embed, src, dst, mode, num_extra_tokens)
    return out.to(pos_embed.dtype)
