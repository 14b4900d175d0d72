"""timm / DeiT / DeiT III ViT checkpoints -> mmpretrain ViT backbones.

Sources (all use timm's key names):

* ``timm-vit``: a timm ``VisionTransformer`` state dict;
* ``deit``: facebookresearch/deit releases, ``{'model': timm_state_dict}``;
  a distilled DeiT adds ``dist_token`` (-> mmpretrain
  ``DistilledVisionTransformer``, two extra tokens);
* ``deit3``: DeiT III releases / timm ``no_embed_class=True``. The position
  embedding covers the ``N`` patches only (shape ``(1, N, C)``, not
  ``(1, 1 + N, C)``): mmpretrain's ``DeiT3`` likewise adds it before
  concatenating the class token. LayerScale is ``ls1.gamma``/``ls2.gamma``
  (timm) or ``gamma_1``/``gamma_2`` (DeiT III release).

  mmpretrain 1.2.0's ``DeiT3TransformerEncoderLayer.forward`` normalises the
  FFN input with ``ln1`` instead of ``ln2`` (``ln2`` is never used), so a
  converted DeiT III computes something else in ``mmpretrain.DeiT3``. With
  ``deit3_target='vit'`` the converter instead writes the mathematically
  identical ``mmpretrain.VisionTransformer`` layout: adding ``pos_embed``
  to the patches only equals adding ``[0; pos_embed]`` after the class token
  is prepended, so a zero class-token entry is inserted.

Renames (per block ``blocks.i`` -> ``layers.i``)::

    patch_embed.proj   -> patch_embed.projection
    norm1 / norm2      -> ln1 / ln2
    attn.qkv, attn.proj   (unchanged)
    mlp.fc1 / mlp.fc2  -> ffn.layers.0.0 / ffn.layers.1
    ls1.gamma, gamma_1 -> attn.gamma1.weight
    ls2.gamma, gamma_2 -> ffn.gamma2.weight
    norm / fc_norm / norm_pre -> ln1 / ln2 / pre_norm

Head keys (``head``, ``head_dist``, ``pre_logits``) are dropped.
"""
import re
from typing import List, Optional, Tuple

import torch

from .base import (
    CheckpointFormatError,
    Conversion,
    StateDict,
    format_error,
    rename_keys,
)
from .pos_embed import (
    Size,
    grid_for_image,
    infer_grid,
    resize_grid_pos_embed,
    to_hw,
)

VIT_FORMATS = ('timm-vit', 'deit', 'deit3')

_TOP_LEVEL = {
    'cls_token': 'cls_token',
    'dist_token': 'dist_token',
    'pos_embed': 'pos_embed',
    'patch_embed.proj.weight': 'patch_embed.projection.weight',
    'patch_embed.proj.bias': 'patch_embed.projection.bias',
}
_NORMS = {'norm.': 'ln1.', 'fc_norm.': 'ln2.', 'norm_pre.': 'pre_norm.'}
_BLOCK = re.compile(r'^blocks\.(\d+)\.(.+)$')
_BLOCK_RENAMES = (
    ('norm1.', 'ln1.'),
    ('norm2.', 'ln2.'),
    ('attn.qkv.', 'attn.qkv.'),
    ('attn.proj.', 'attn.proj.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
)
_LAYER_SCALES = {
    'ls1.gamma': 'attn.gamma1.weight',
    'gamma_1': 'attn.gamma1.weight',
    'ls2.gamma': 'ffn.gamma2.weight',
    'gamma_2': 'ffn.gamma2.weight',
}
_HEAD_PREFIXES = ('head.', 'head_dist.', 'pre_logits.')


def is_timm_vit(state_dict: StateDict) -> bool:
    """timm ViT key layout: ``patch_embed.proj``, ``pos_embed``, ``blocks``."""
    return ('patch_embed.proj.weight' in state_dict
            and 'pos_embed' in state_dict
            and any(k.startswith('blocks.') for k in state_dict))


def num_extra_tokens(state_dict: StateDict) -> int:
    """Class + distillation tokens the model prepends (registers refused)."""
    return int('cls_token' in state_dict) + int('dist_token' in state_dict)


def pos_embed_has_extra_tokens(state_dict: StateDict,
                               source: str = '<checkpoint>') -> bool:
    """Whether ``pos_embed`` holds entries for the class/dist tokens.

    ``(1, E + G*G, C)`` -> True (ViT, DeiT); ``(1, G*G, C)`` -> False
    (DeiT III, timm ``no_embed_class``). For ``E >= 1`` at most one of the
    two is a perfect square, so the layout is unambiguous; without extra
    tokens (``class_token=False``) it is True.
    """
    length = state_dict['pos_embed'].shape[1]
    extra = num_extra_tokens(state_dict)
    for has_extra in (True, False):  # equal when there are no extra tokens
        try:
            infer_grid(length, extra if has_extra else 0)
            return has_extra
        except ValueError:
            continue
    raise CheckpointFormatError(
        format_error(
            source,
            f'pos_embed has {length} positions: neither a square patch '
            f'grid nor {extra} extra token(s) + a square grid', state_dict))


def _rename(key: str) -> Optional[str]:
    """mmpretrain name of a timm ViT key; '' for a head key; None if
    unknown."""
    if key in _TOP_LEVEL:
        return _TOP_LEVEL[key]
    if key.startswith(_HEAD_PREFIXES):
        return ''
    for old, new in _NORMS.items():
        if key.startswith(old) and key[len(old):] in ('weight', 'bias'):
            return new + key[len(old):]
    match = _BLOCK.match(key)
    if match is None:
        return None
    index, rest = match.groups()
    if rest in _LAYER_SCALES:
        return f'layers.{index}.{_LAYER_SCALES[rest]}'
    for old, new in _BLOCK_RENAMES:
        if rest.startswith(old) and rest[len(old):] in ('weight', 'bias'):
            return f'layers.{index}.{new}{rest[len(old):]}'
    return None


def _arch(state_dict: StateDict, patch: Tuple[int, int],
          grid: Tuple[int, int]) -> dict:
    """Backbone settings readable from shapes (heads are not)."""
    layers = {
        int(_BLOCK.match(k).group(1))
        for k in state_dict if _BLOCK.match(k)
    }
    fc1 = state_dict.get('blocks.0.mlp.fc1.weight')
    return dict(
        embed_dims=int(state_dict['patch_embed.proj.weight'].shape[0]),
        num_layers=len(layers),
        feedforward_channels=None if fc1 is None else int(fc1.shape[0]),
        patch_size=list(patch),
        img_size=[grid[0] * patch[0], grid[1] * patch[1]],
        qkv_bias='blocks.0.attn.qkv.bias' in state_dict,
        final_norm='norm.weight' in state_dict,
        layer_scale=any(
            k.endswith(('ls1.gamma', 'gamma_1')) for k in state_dict),
    )


def convert_timm_vit(state_dict: StateDict,
                     fmt: str = 'timm-vit',
                     img_size: Optional[Size] = None,
                     patch_size: Optional[Size] = None,
                     source: str = '<checkpoint>',
                     deit3_target: str = 'deit3') -> Conversion:
    """Convert a timm-named ViT state dict to mmpretrain names.

    Args:
        state_dict: unwrapped timm ViT/DeiT/DeiT III tensors.
        fmt: ``'timm-vit'``, ``'deit'`` (both: ``pos_embed`` covers the extra
            tokens) or ``'deit3'`` (it does not).
        img_size: resize ``pos_embed`` to the grid of this input size
            ``(H, W)``; keeps the checkpoint's grid when None.
        patch_size: target patch size; when it differs from the checkpoint's
            kernel the patch embedding is resampled (timm's FlexiViT
            ``resample_patch_embed``). Defaults to the checkpoint's.
        source: file name used in error messages.
        deit3_target: for ``fmt='deit3'``: ``'deit3'`` (``mmpretrain.DeiT3``
            layout, the default) or ``'vit'`` (``mmpretrain.VisionTransformer``
            with ``layer_scale_init_value > 0``, zero class-token position
            entry inserted; numerically identical to timm).

    Raises:
        CheckpointFormatError: not a timm ViT, a layout that does not match
            ``fmt``, register tokens, or keys this converter cannot place.
    """
    if fmt not in VIT_FORMATS:
        raise ValueError(f'fmt must be one of {VIT_FORMATS}, got {fmt!r}')
    if deit3_target not in ('deit3', 'vit'):
        raise ValueError("deit3_target must be 'deit3' or 'vit', got "
                         f'{deit3_target!r}')
    if not is_timm_vit(state_dict):
        raise CheckpointFormatError(
            format_error(
                source, f'not a timm ViT state dict (--type {fmt} expects '
                'patch_embed.proj.weight, pos_embed and blocks.*)',
                state_dict))
    if 'reg_token' in state_dict:
        raise CheckpointFormatError(
            format_error(
                source, 'register tokens (reg_token) are not supported by '
                "mmpretrain's VisionTransformer/DeiT3", state_dict))
    extra_in_pos = pos_embed_has_extra_tokens(state_dict, source)
    if fmt == 'deit3' and 'cls_token' not in state_dict:
        raise CheckpointFormatError(
            format_error(
                source, '--type deit3 needs a cls_token; a ViT without one '
                'converts with --type timm-vit (mmpretrain VisionTransformer '
                'with_cls_token=False)', state_dict))
    if extra_in_pos == (fmt == 'deit3'):
        layout = ('includes the class token (ViT/DeiT layout: use --type '
                  'timm-vit or deit)' if extra_in_pos else
                  'has no class-token entry (DeiT III layout: use --type '
                  'deit3)')
        raise CheckpointFormatError(
            format_error(
                source, f'--type {fmt} does not fit: pos_embed of shape '
                f'{tuple(state_dict["pos_embed"].shape)} {layout}',
                state_dict))

    out, dropped = rename_keys(
        state_dict, _rename, source, f'of the {fmt} checkpoint have no '
        'mmpretrain counterpart (unsupported ViT variant?)')

    notes: List[str] = []
    kernel = tuple(state_dict['patch_embed.proj.weight'].shape[-2:])
    patch = kernel if patch_size is None else to_hw(patch_size)
    if patch != kernel:
        from timm.layers import resample_patch_embed
        out['patch_embed.projection.weight'] = resample_patch_embed(
            out['patch_embed.projection.weight'], list(patch))
        notes.append(f'patch embedding resampled {kernel} -> {patch}')
    extra = num_extra_tokens(state_dict) if extra_in_pos else 0
    grid = infer_grid(state_dict['pos_embed'].shape[1], extra)
    as_vit = fmt == 'deit3' and deit3_target == 'vit'
    if as_vit:
        pos = out['pos_embed']
        extra = num_extra_tokens(state_dict)
        out['pos_embed'] = torch.cat(
            [pos.new_zeros(1, extra, pos.shape[2]), pos], dim=1)
        notes.append(f'DeiT III pos_embed given {extra} zero extra-token '
                     'entries for mmpretrain.VisionTransformer')
    elif fmt == 'deit3':
        notes.append('WARNING: mmpretrain 1.2.0 DeiT3 layers apply ln1 '
                     'before the FFN and never use ln2, so this model will '
                     'not reproduce the release; convert with --deit3-target'
                     ' vit for an exact mmpretrain.VisionTransformer')
    if img_size is not None:
        new_grid = grid_for_image(img_size, patch)
        if new_grid != grid:
            out['pos_embed'] = resize_grid_pos_embed(out['pos_embed'],
                                                     new_grid,
                                                     extra,
                                                     src_grid=grid)
            notes.append(f'pos_embed resized from a {grid} to a {new_grid} '
                         f'grid ({extra} extra token entries kept)')
            grid = new_grid
    if fmt == 'deit3' and not as_vit:
        target = 'mmpretrain.DeiT3'
    elif 'dist_token' in state_dict:
        target = 'mmpretrain.DistilledVisionTransformer'
    else:
        target = 'mmpretrain.VisionTransformer'
    return Conversion(out, fmt, target, dropped, notes,
                      _arch(state_dict, patch, grid))
