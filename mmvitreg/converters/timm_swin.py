"""timm and official Swin Transformer checkpoints -> mmpretrain Swin.

Both sources use the same per-block names; they differ in where the
patch-merging layer lives:

* official releases (microsoft/Swin-Transformer, ``{'model': ...}``) and
  timm < 0.9: ``layers.i.downsample`` ends stage ``i`` (as mmpretrain's
  ``stages.i.downsample``); they also save the ``relative_position_index``
  and ``attn_mask`` buffers;
* timm >= 0.9: ``layers.i.downsample`` starts stage ``i`` (i >= 1), i.e.
  it is mmpretrain's ``stages.(i-1).downsample``; no buffers saved.

The layout is read from the keys, so ``--type timm-swin`` and
``--type swin-official`` share this converter.

Renames (``layers.i.blocks.j`` -> ``stages.i.blocks.j``)::

    patch_embed.proj          -> patch_embed.projection
    attn.{qkv,proj,relative_position_bias_table} -> attn.w_msa.<same>
    mlp.fc1 / mlp.fc2         -> ffn.layers.0.0 / ffn.layers.1
    norm                      -> norm{num_stages - 1}

Patch merging: both sources concatenate the 2x2 neighbours of a patch as
``[x(0,0), x(1,0), x(0,1), x(1,1)]`` (row, column offsets) into ``4C``
channels, neighbour-major; mmpretrain's ``nn.Unfold`` gives channel-major
``[c, (0,0), (0,1), (1,0), (1,1)]``. With ``W`` of shape ``(C', 4C)``
viewed as ``(C', 4, C)`` the converted weight is
``W[:, [0, 2, 1, 3], :].transpose(1, 2)`` flattened back, and the LayerNorm
before it is permuted the same way.

Relative position bias tables ``((2w - 1)^2, heads)`` are resized to the
target window ``w'`` (timm's geometric ``resize_rel_pos_bias_table``, as in
the Swin/BEiT fine-tuning code; mmpretrain's own resize calls scipy's
``interp2d``, which scipy >= 1.14 no longer has) and the
``relative_position_index`` buffers are rebuilt for ``w'`` in mmpretrain's
``WindowMSA`` layout. The default target is the largest window in the
checkpoint (timm shrinks the window of stages whose map is smaller).
"""
import math
import re
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional

import torch

from .base import CheckpointFormatError, Conversion, StateDict, format_error
from .pos_embed import Size, grid_for_image, infer_grid, resize_grid_pos_embed

SWIN_FORMATS = ('timm-swin', 'swin-official')

_BLOCK = re.compile(r'^layers\.(\d+)\.blocks\.(\d+)\.(.+)$')
_DOWNSAMPLE = re.compile(r'^layers\.(\d+)\.downsample\.(norm|reduction)\.'
                         r'(weight|bias)$')
_BLOCK_RENAMES = {
    'norm1.weight': 'norm1.weight',
    'norm1.bias': 'norm1.bias',
    'norm2.weight': 'norm2.weight',
    'norm2.bias': 'norm2.bias',
    'attn.qkv.weight': 'attn.w_msa.qkv.weight',
    'attn.qkv.bias': 'attn.w_msa.qkv.bias',
    'attn.proj.weight': 'attn.w_msa.proj.weight',
    'attn.proj.bias': 'attn.w_msa.proj.bias',
    'attn.relative_position_bias_table':
    'attn.w_msa.relative_position_bias_table',
    'mlp.fc1.weight': 'ffn.layers.0.0.weight',
    'mlp.fc1.bias': 'ffn.layers.0.0.bias',
    'mlp.fc2.weight': 'ffn.layers.1.weight',
    'mlp.fc2.bias': 'ffn.layers.1.bias',
}
#: Saved buffers that mmpretrain rebuilds (index) or computes (mask).
_BLOCK_BUFFERS = ('attn.relative_position_index', 'attn_mask')
_TOP_LEVEL = {
    'patch_embed.proj.weight': 'patch_embed.projection.weight',
    'patch_embed.proj.bias': 'patch_embed.projection.bias',
    'patch_embed.norm.weight': 'patch_embed.norm.weight',
    'patch_embed.norm.bias': 'patch_embed.norm.bias',
    'absolute_pos_embed': 'absolute_pos_embed',
}
_HEAD_PREFIXES = ('head.', 'head_dist.')


def is_swin(state_dict: StateDict) -> bool:
    """Swin key layout: ``layers.i.blocks.j.attn.relative_position_bias_table``
    and ``patch_embed.proj``."""
    return 'patch_embed.proj.weight' in state_dict and any(
        k.endswith('attn.relative_position_bias_table') and _BLOCK.match(k)
        for k in state_dict)


def downsample_at_stage_start(state_dict: StateDict) -> bool:
    """True for the timm >= 0.9 layout (no ``layers.0.downsample``)."""
    stages = {int(m.group(1)) for m in map(_DOWNSAMPLE.match, state_dict) if m}
    return bool(stages) and 0 not in stages


def swin_format(state_dict: StateDict) -> str:
    """``'timm-swin'`` (merging starts a stage) or ``'swin-official'``."""
    return ('timm-swin'
            if downsample_at_stage_start(state_dict) else 'swin-official')


def window_of_table(table: torch.Tensor) -> int:
    """``w`` of a ``((2w - 1)^2, heads)`` relative position bias table."""
    side = math.isqrt(table.shape[0])
    if side * side != table.shape[0] or side % 2 == 0:
        raise ValueError(f'a relative position table of {table.shape[0]} '
                         'rows is not (2w - 1)^2 for any window w')
    return (side + 1) // 2


def relative_position_index(window: int) -> torch.Tensor:
    """mmpretrain ``WindowMSA.relative_position_index`` for a square window:
    entry ``(p, q)`` indexes the table row of the offset between window
    positions ``p`` and ``q``, shape ``(w^2, w^2)``."""
    from mmpretrain.models.utils.attention import WindowMSA
    coords = WindowMSA.double_step_seq(2 * window - 1, window, 1, window)
    return (coords + coords.T).flip(1).contiguous()


def merging_reduction_to_unfold(weight: torch.Tensor) -> torch.Tensor:
    """``(C', 4C)`` neighbour-major ``[00, 10, 01, 11]`` -> channel-major
    unfold order ``[c][00, 01, 10, 11]``."""
    out_ch, in_ch = weight.shape
    weight = weight.reshape(out_ch, 4, in_ch // 4)[:, [0, 2, 1, 3], :]
    return weight.transpose(1, 2).reshape(out_ch, in_ch)


def merging_norm_to_unfold(param: torch.Tensor) -> torch.Tensor:
    """The same channel permutation for the ``(4C,)`` LayerNorm before it."""
    in_ch = param.shape[0]
    param = param.reshape(4, in_ch // 4)[[0, 2, 1, 3], :]
    return param.transpose(0, 1).reshape(in_ch)


def resize_table(table: torch.Tensor, window: int) -> torch.Tensor:
    """``((2w - 1)^2, heads)`` -> ``((2w' - 1)^2, heads)``.

    timm's geometric resampling: source offsets ``0, ±1, ±(1 + q), ...``
    are spread over the larger target range, so offsets ``0`` and ``±1``
    keep their values exactly.
    """
    from timm.layers import resize_rel_pos_bias_table
    rows = (2 * window - 1)**2
    with warnings.catch_warnings():
        # timm's torch interpolator: performance/deprecation notes only
        warnings.simplefilter('ignore', UserWarning)
        out = resize_rel_pos_bias_table(table,
                                        new_window_size=(window, window),
                                        new_bias_shape=(rows, table.shape[1]))
    return out.to(table.dtype)


def convert_timm_swin(state_dict: StateDict,
                      fmt: Optional[str] = None,
                      window_size: Optional[int] = None,
                      img_size: Optional[Size] = None,
                      source: str = '<checkpoint>') -> Conversion:
    """Convert a timm/official Swin state dict to mmpretrain names.

    Args:
        state_dict: unwrapped Swin tensors.
        fmt: the format name to report; read from the keys when None.
        window_size: target window ``w'``; the checkpoint's largest window
            when None.
        img_size: only used to resize an ``absolute_pos_embed``
            (``ape=True`` releases) to the new patch grid.
        source: file name used in error messages.

    Raises:
        CheckpointFormatError: not a Swin (v1) state dict, or keys this
            converter cannot place (e.g. Swin V2's ``cpb_mlp``).
    """
    if not is_swin(state_dict):
        raise CheckpointFormatError(
            format_error(
                source, f'not a Swin state dict (--type {fmt or "timm-swin"} '
                'expects patch_embed.proj.weight and layers.*.blocks.*.attn.'
                'relative_position_bias_table)', state_dict))
    detected = swin_format(state_dict)
    at_start = detected == 'timm-swin'
    stages = 1 + max(
        int(m.group(1)) for m in map(_BLOCK.match, state_dict) if m)
    windows = [
        window_of_table(v) for k, v in state_dict.items()
        if k.endswith('relative_position_bias_table')
    ]
    target = max(windows) if window_size is None else int(window_size)

    out, dropped, unknown = OrderedDict(), [], []
    notes = [
        f'downsample layout: {detected} (patch merging '
        f'{"starts" if at_start else "ends"} a stage)'
    ]
    if fmt is not None and fmt != detected:
        notes.append(f'--type {fmt} given; keys follow the {detected} '
                     'layout, converted as such')
    heads: Dict[int, int] = {}
    depths: Dict[int, int] = {}
    resized: List[str] = []
    for key, value in state_dict.items():
        block, merge = _BLOCK.match(key), _DOWNSAMPLE.match(key)
        if key in _TOP_LEVEL:
            out[_TOP_LEVEL[key]] = value
        elif key in ('norm.weight', 'norm.bias'):
            out[f'norm{stages - 1}.{key[5:]}'] = value
        elif key.startswith(_HEAD_PREFIXES):
            dropped.append(key)
        elif block and block.group(3) in _BLOCK_BUFFERS:
            dropped.append(key)
        elif block and block.group(3) in _BLOCK_RENAMES:
            stage, index, rest = block.groups()
            depths[int(stage)] = max(depths.get(int(stage), 0), int(index) + 1)
            prefix = f'stages.{stage}.blocks.{index}.'
            if rest == 'attn.relative_position_bias_table':
                heads[int(stage)] = int(value.shape[1])
                if window_of_table(value) != target:
                    value = resize_table(value, target)
                    resized.append(key)
                out[prefix + 'attn.w_msa.relative_position_index'] = (
                    relative_position_index(target))
            out[prefix + _BLOCK_RENAMES[rest]] = value
        elif merge:
            stage, part, kind = merge.groups()
            stage = int(stage) - 1 if at_start else int(stage)
            fix = (merging_reduction_to_unfold
                   if part == 'reduction' else merging_norm_to_unfold)
            out[f'stages.{stage}.downsample.{part}.{kind}'] = fix(value)
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointFormatError(
            format_error(
                source,
                f'{len(unknown)} key(s) of the Swin checkpoint have no '
                'mmpretrain SwinTransformer counterpart (Swin V2 or another '
                'variant?)', unknown))
    if resized:
        notes.append(f'{len(resized)} relative position table(s) resized '
                     f'to window {target} (from windows '
                     f'{sorted(set(windows))})')

    patch = list(state_dict['patch_embed.proj.weight'].shape[-2:])
    arch = dict(embed_dims=int(state_dict['patch_embed.proj.weight'].shape[0]),
                depths=[depths.get(i, 0) for i in range(stages)],
                num_heads=[heads.get(i, 0) for i in range(stages)],
                window_size=target,
                patch_size=patch)
    if 'absolute_pos_embed' in out:
        grid = infer_grid(out['absolute_pos_embed'].shape[1], 0)
        if img_size is not None:
            new_grid = grid_for_image(img_size, patch)
            if new_grid != grid:
                out['absolute_pos_embed'] = resize_grid_pos_embed(
                    out['absolute_pos_embed'], new_grid, 0, src_grid=grid)
                notes.append(f'absolute_pos_embed resized {grid} -> '
                             f'{new_grid}')
                grid = new_grid
        arch['img_size'] = [grid[0] * patch[0], grid[1] * patch[1]]
    elif img_size is not None:
        notes.append('--img-size not needed: this Swin has no absolute '
                     'position embedding')
    return Conversion(out, fmt or detected, 'mmpretrain.SwinTransformer',
                      dropped, notes, arch)
