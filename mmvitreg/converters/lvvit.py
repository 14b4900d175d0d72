"""Released LV-ViT checkpoints (zihangJiang/TokenLabeling) -> mmpretrain.LVViT.

Source: the ``LV_ViT`` model of ``tlt/models/lvvit.py`` (releases such as
``lvvit_s-26M-224-83.3.pth.tar``, bare or wrapped in ``{'state_dict': ...}``).
Its patch embedding ``PatchEmbed4_2`` (``PatchEmbed4_2_128`` for LV-ViT-L)
names the stem layers one by one; mmvitreg's :class:`ConvPatchEmbed` holds
them in an ``nn.Sequential`` ``stem`` (conv, BN, ReLU, conv, BN, ReLU,
conv, BN, ReLU)::

    patch_embed.conv1 / bn1  -> patch_embed.stem.0 / stem.1
    patch_embed.conv2 / bn2  -> patch_embed.stem.3 / stem.4
    patch_embed.conv3 / bn3  -> patch_embed.stem.6 / stem.7
    patch_embed.proj         -> patch_embed.proj (kernel = stride = P / 2)
    blocks.i.*               -> layers.i.* (timm ViT block names, see
                                :mod:`.timm_vit`; no LayerScale)
    norm                     -> ln1
    cls_token, pos_embed        (unchanged; pos_embed is (1, 1 + N, C))

BN running statistics and ``num_batches_tracked`` are kept (the stem runs
in eval mode at inference). ``head`` and ``aux_head`` (the dense token
labeling head) are dropped. Tensors are copied unchanged apart from
``pos_embed``, which is resized when a target input size is given.

Two settings are **not in the file**: the residual scale ``skip_lam`` (the
blocks compute ``x + f(LN(x)) / skip_lam``) and the number of heads. They
are read from the released model definitions when the tensor shapes match
one (:data:`RELEASES`) and reported; otherwise they must be set in the
config.
"""
import re
from typing import Dict, List, Optional, Tuple

from .base import (
    CheckpointFormatError,
    Conversion,
    StateDict,
    format_error,
    rename_keys,
)
from .pos_embed import Size, infer_grid, resize_grid_pos_embed, to_hw
from .timm_vit import _BLOCK_RENAMES

LVVIT_FORMATS = ('lvvit', )

#: Released models, keyed by (embed_dims, num_layers, feedforward_channels,
#: stem_channels): name and the settings the checkpoint does not store.
RELEASES: Dict[Tuple[int, int, int, int], dict] = {
    (240, 12, 720, 64): dict(release='lvvit_t', num_heads=4, skip_lam=1.0),
    (384, 16, 1152, 64): dict(release='lvvit_s', num_heads=6, skip_lam=2.0),
    (512, 20, 1536, 64): dict(release='lvvit_m', num_heads=8, skip_lam=2.0),
    (768, 24, 2304, 128): dict(release='lvvit_l', num_heads=12,
                               skip_lam=3.0),
}

_STEM = re.compile(r'^patch_embed\.(conv|bn)([123])\.(.+)$')
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var',
               'num_batches_tracked')
_BLOCK = re.compile(r'^blocks\.(\d+)\.(.+)$')
#: Per-block tensors every released ``Block`` has (``attn.qkv.bias`` only
#: with ``qkv_bias=True``, which no release uses).
_BLOCK_REQUIRED = ('norm1.weight', 'norm1.bias', 'attn.qkv.weight',
                   'attn.proj.weight', 'attn.proj.bias', 'norm2.weight',
                   'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias',
                   'mlp.fc2.weight', 'mlp.fc2.bias')
_TOP_LEVEL = {
    'cls_token': 'cls_token',
    'pos_embed': 'pos_embed',
    'patch_embed.proj.weight': 'patch_embed.proj.weight',
    'patch_embed.proj.bias': 'patch_embed.proj.bias',
    'norm.weight': 'ln1.weight',
    'norm.bias': 'ln1.bias',
}
_HEAD_PREFIXES = ('head.', 'aux_head.')


def is_lvvit(state_dict: StateDict) -> bool:
    """Released LV-ViT layout: the named conv stem plus ViT blocks."""
    return ('patch_embed.conv1.weight' in state_dict
            and 'patch_embed.proj.weight' in state_dict
            and 'pos_embed' in state_dict
            and any(k.startswith('blocks.') for k in state_dict))


def lvvit_grid(img_size: Size, patch_size: int) -> Tuple[int, int]:
    """Token grid of :class:`ConvPatchEmbed` for an ``H x W`` image with
    its default ``padding='corner'``: ``ceil(H / P) x ceil(W / P)``, as
    mmpretrain's ViT (the image is zero-padded to multiples of ``P`` before
    the stem, whose strides then divide it exactly).
    """
    if patch_size < 2 or patch_size % 2:
        raise ValueError(f'LV-ViT patch size must be even, got {patch_size}')
    h, w = (-(-s // patch_size) for s in to_hw(img_size))
    if h < 1 or w < 1:
        raise ValueError(f'image size {to_hw(img_size)} gives no token with '
                         f'patch size {patch_size}')
    return h, w


def _rename(key: str) -> Optional[str]:
    """mmpretrain ``LVViT`` name of a released key; '' for a head key; None
    if unknown."""
    if key in _TOP_LEVEL:
        return _TOP_LEVEL[key]
    if key.startswith(_HEAD_PREFIXES):
        return ''
    stem = _STEM.match(key)
    if stem is not None:
        kind, index, tensor = stem.groups()
        position = 3 * (int(index) - 1) + (0 if kind == 'conv' else 1)
        if (kind == 'conv' and tensor == 'weight') or (kind == 'bn' and
                                                       tensor in _BN_TENSORS):
            return f'patch_embed.stem.{position}.{tensor}'
        return None
    block = _BLOCK.match(key)
    if block is None:
        return None
    index, rest = block.groups()
    for old, new in _BLOCK_RENAMES:
        if rest.startswith(old) and rest[len(old):] in ('weight', 'bias'):
            return f'layers.{index}.{new}{rest[len(old):]}'
    return None


def _check_blocks(state_dict: StateDict, source: str) -> int:
    """Number of blocks; each must be a full pre-norm transformer block
    with ``qkv`` of shape ``(3C, C)``."""
    indices = sorted({
        int(_BLOCK.match(k).group(1))
        for k in state_dict if _BLOCK.match(k)
    })
    if indices != list(range(len(indices))):
        raise CheckpointFormatError(
            format_error(source, f'block indices {indices} are not 0..N-1',
                         state_dict))
    dim = state_dict['patch_embed.proj.weight'].shape[0]
    for i in indices:
        missing = [
            f'blocks.{i}.{name}' for name in _BLOCK_REQUIRED
            if f'blocks.{i}.{name}' not in state_dict
        ]
        if missing:
            raise CheckpointFormatError(
                format_error(
                    source, f'block {i} is not a full transformer block '
                    '(attention-only / FFN-only blocks of a custom `order` '
                    'are not supported); missing', missing))
        qkv = tuple(state_dict[f'blocks.{i}.attn.qkv.weight'].shape)
        if qkv != (3 * dim, dim):
            raise CheckpointFormatError(
                format_error(
                    source, f'blocks.{i}.attn.qkv.weight has shape {qkv}, '
                    f'not {(3 * dim, dim)}: a head_dim other than '
                    'embed_dims / num_heads is not supported', state_dict))
    return len(indices)


def _arch(state_dict: StateDict, num_layers: int, patch_size: int,
          grid: Tuple[int, int], notes: List[str]) -> dict:
    """Backbone settings from shapes, plus ``num_heads``/``skip_lam`` of a
    matching release (None when no release matches)."""
    embed_dims = int(state_dict['patch_embed.proj.weight'].shape[0])
    ffn = int(state_dict['blocks.0.mlp.fc1.weight'].shape[0])
    stem = int(state_dict['patch_embed.conv1.weight'].shape[0])
    known = RELEASES.get((embed_dims, num_layers, ffn, stem))
    if known is None:
        notes.append('no released LV-ViT has these shapes: set num_heads and '
                     'skip_lam in the config (not stored in the checkpoint)')
        known = dict(release=None, num_heads=None, skip_lam=None)
    else:
        notes.append(f'shapes match {known["release"]}: num_heads='
                     f'{known["num_heads"]}, skip_lam={known["skip_lam"]} '
                     '(not stored in the checkpoint; from its definition)')
    half = patch_size // 2
    return dict(
        release=known['release'],
        arch=dict(embed_dims=embed_dims,
                  num_layers=num_layers,
                  num_heads=known['num_heads'],
                  feedforward_channels=ffn,
                  skip_lam=known['skip_lam'],
                  stem_channels=stem),
        patch_size=patch_size,
        img_size=[2 * half * grid[0], 2 * half * grid[1]],
        qkv_bias='blocks.0.attn.qkv.bias' in state_dict,
        final_norm='norm.weight' in state_dict,
    )


def convert_lvvit(state_dict: StateDict,
                  img_size: Optional[Size] = None,
                  patch_size: Optional[int] = None,
                  source: str = '<checkpoint>') -> Conversion:
    """Convert a released LV-ViT state dict to ``mmpretrain.LVViT`` names.

    Args:
        state_dict: unwrapped release tensors.
        img_size: resize ``pos_embed`` (class entry kept, patch grid
            bicubic) to the token grid of this input size ``(H, W)``, see
            :func:`lvvit_grid`; keeps the checkpoint's grid when None.
        patch_size: must equal the checkpoint's (twice the projection
            kernel) when given; the convolutional stem is not resampled.
        source: file name used in error messages.

    Raises:
        CheckpointFormatError: not an LV-ViT, an unsupported variant (hybrid
            CNN embedding, group linear layers, custom block orders), or keys
            this converter cannot place.
    """
    if not is_lvvit(state_dict):
        raise CheckpointFormatError(
            format_error(
                source, 'not a released LV-ViT state dict (--type lvvit '
                'expects patch_embed.conv1/bn1/.../proj, pos_embed and '
                'blocks.*)', state_dict))
    out, dropped = rename_keys(
        state_dict, _rename, source, 'of the LV-ViT checkpoint have no '
        'mmpretrain.LVViT counterpart (unsupported variant?)')
    num_layers = _check_blocks(state_dict, source)

    kernel = tuple(state_dict['patch_embed.proj.weight'].shape[-2:])
    if kernel[0] != kernel[1]:
        raise CheckpointFormatError(
            format_error(source, f'non-square projection kernel {kernel}',
                         state_dict))
    patch = 2 * kernel[0]
    if patch_size is not None and tuple(to_hw(patch_size)) != (patch, patch):
        raise ValueError(f'{source}: --patch-size {patch_size}: the LV-ViT '
                         f'checkpoint has patch size {patch} and its '
                         'convolutional stem is not resampled')
    notes: List[str] = []
    try:
        grid = infer_grid(state_dict['pos_embed'].shape[1], 1)
    except ValueError as err:
        raise CheckpointFormatError(format_error(source, str(err),
                                                 state_dict)) from err
    if img_size is not None:
        new_grid = lvvit_grid(img_size, patch)
        if new_grid != grid:
            out['pos_embed'] = resize_grid_pos_embed(out['pos_embed'],
                                                     new_grid,
                                                     1,
                                                     src_grid=grid)
            notes.append(f'pos_embed resized from a {grid} to a {new_grid} '
                         'grid (class token entry kept)')
            grid = new_grid
    arch = _arch(state_dict, num_layers, patch, grid, notes)
    return Conversion(out, 'lvvit', 'mmpretrain.LVViT', dropped, notes, arch)
