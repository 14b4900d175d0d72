"""mmpretrain ViT / DeiT / DeiT III / Swin backbones -> timm key layout.

The inverse of :mod:`.timm_vit` and :mod:`.timm_swin`: a backbone trained
here leaves the suite as a state dict that ``timm.create_model(...,
num_classes=0).load_state_dict`` takes strictly and that computes the same
features.

ViT family (``layers.i`` -> ``blocks.i``)::

    patch_embed.projection -> patch_embed.proj
    ln1 / ln2 (blocks)     -> norm1 / norm2
    ffn.layers.0.0 / ffn.layers.1 -> mlp.fc1 / mlp.fc2
    attn.gamma1.weight / ffn.gamma2.weight -> ls1.gamma / ls2.gamma
    ln1 / ln2 / pre_norm (top level) -> norm / fc_norm / norm_pre

``DeiT3`` / ``DeiT3ViT`` keep a ``pos_embed`` over the patches only: that
is timm's ``no_embed_class=True`` layout, left as it is.

Swin (``stages.i.blocks.j`` -> ``layers.i.blocks.j``): ``attn.w_msa.*`` ->
``attn.*``; the ``relative_position_index`` buffers are dropped (timm
rebuilds them); ``stages.i.downsample`` -> ``layers.(i+1).downsample``
(timm >= 0.9 merges at the start of a stage) with the unfold channel order
permuted back to timm's neighbour-major ``[00, 10, 01, 11]``;
``norm{last}`` -> ``norm``. The extra per-stage norms of a segmentation
backbone (``norm0``..) have no timm counterpart: dropped and listed.
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Optional, Tuple

import torch

from .base import CheckpointFormatError, StateDict, format_error, rename_keys

TIMM_LAYOUTS = ('vit', 'deit3', 'swin')

_VIT_TOP = {
    'cls_token': 'cls_token',
    'dist_token': 'dist_token',
    'pos_embed': 'pos_embed',
    'patch_embed.projection.weight': 'patch_embed.proj.weight',
    'patch_embed.projection.bias': 'patch_embed.proj.bias',
}
_VIT_NORMS = {'ln1.': 'norm.', 'ln2.': 'fc_norm.', 'pre_norm.': 'norm_pre.'}
_VIT_BLOCK = re.compile(r'^layers\.(\d+)\.(.+)$')
_VIT_BLOCK_RENAMES = {
    'ln1.': 'norm1.',
    'ln2.': 'norm2.',
    'attn.qkv.': 'attn.qkv.',
    'attn.proj.': 'attn.proj.',
    'ffn.layers.0.0.': 'mlp.fc1.',
    'ffn.layers.1.': 'mlp.fc2.',
}
_VIT_LAYER_SCALES = {
    'attn.gamma1.weight': 'ls1.gamma',
    'ffn.gamma2.weight': 'ls2.gamma',
}
_SWIN_BLOCK = re.compile(r'^stages\.(\d+)\.blocks\.(\d+)\.(.+)$')
_SWIN_MERGE = re.compile(
    r'^stages\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)$')
_SWIN_NORM = re.compile(r'^norm(\d+)\.(weight|bias)$')
_SWIN_TOP = {
    'patch_embed.projection.weight': 'patch_embed.proj.weight',
    'patch_embed.projection.bias': 'patch_embed.proj.bias',
    'patch_embed.norm.weight': 'patch_embed.norm.weight',
    'patch_embed.norm.bias': 'patch_embed.norm.bias',
    'absolute_pos_embed': 'absolute_pos_embed',
}


def backbone_state_dict(state_dict: Mapping[str, torch.Tensor],
                        prefix: str = 'backbone.',
                        source: str = '<checkpoint>') -> StateDict:
    """The tensors under ``prefix`` (a classifier's or segmentor's
    backbone), prefix removed; all of them when none has the prefix."""
    out = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                      if k.startswith(prefix))
    if not out:
        if any(k.startswith(('layers.', 'stages.')) for k in state_dict):
            return OrderedDict(state_dict)
        raise CheckpointFormatError(
            format_error(source, f'no {prefix}* keys: not a checkpoint of '
                         'a model with a backbone', state_dict))
    return out


def detect_layout(state_dict: StateDict, source: str = '<checkpoint>') -> str:
    """``'swin'``, ``'deit3'`` (``pos_embed`` without the class entry) or
    ``'vit'`` from mmpretrain backbone keys."""
    if any(_SWIN_BLOCK.match(k) for k in state_dict):
        return 'swin'
    if 'patch_embed.projection.weight' in state_dict and any(
            _VIT_BLOCK.match(k) for k in state_dict):
        pos = state_dict.get('pos_embed')
        extra = int('cls_token' in state_dict) + int(
            'dist_token' in state_dict)
        if pos is not None and extra and _is_square(pos.shape[1]):
            return 'deit3'
        return 'vit'
    raise CheckpointFormatError(
        format_error(source, 'not an mmpretrain ViT/DeiT/DeiT III/Swin '
                     'backbone (expected patch_embed.projection and layers.* '
                     'or stages.*.blocks.*)', state_dict))


def _is_square(n: int) -> bool:
    root = int(round(n**0.5))
    return root * root == n


def _vit_rename(key: str) -> Optional[str]:
    """timm name of an mmpretrain ViT key; None when it has none."""
    if key in _VIT_TOP:
        return _VIT_TOP[key]
    for old, new in _VIT_NORMS.items():
        if key.startswith(old) and key[len(old):] in ('weight', 'bias'):
            return new + key[len(old):]
    match = _VIT_BLOCK.match(key)
    if match is None:
        return None
    index, rest = match.groups()
    if rest in _VIT_LAYER_SCALES:
        return f'blocks.{index}.{_VIT_LAYER_SCALES[rest]}'
    for old, new in _VIT_BLOCK_RENAMES.items():
        if rest.startswith(old) and rest[len(old):] in ('weight', 'bias'):
            return f'blocks.{index}.{new}{rest[len(old):]}'
    return None


def unfold_to_merging_reduction(weight: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`.timm_swin.merging_reduction_to_unfold`: channel-
    major ``[c][00, 01, 10, 11]`` -> neighbour-major ``[00, 10, 01, 11]``
    (the permutation [0, 2, 1, 3] is its own inverse)."""
    out_ch, in_ch = weight.shape
    weight = weight.reshape(out_ch, in_ch // 4, 4).transpose(1, 2)
    return weight[:, [0, 2, 1, 3], :].reshape(out_ch, in_ch)


def unfold_to_merging_norm(param: torch.Tensor) -> torch.Tensor:
    """The same permutation for the ``(4C,)`` LayerNorm before it."""
    in_ch = param.shape[0]
    param = param.reshape(in_ch // 4, 4).transpose(0, 1)
    return param[[0, 2, 1, 3], :].reshape(in_ch)


def _swin_to_timm(state_dict: StateDict,
                  source: str) -> Tuple[StateDict, List[str]]:
    stages = 1 + max(
        int(m.group(1)) for m in map(_SWIN_BLOCK.match, state_dict) if m)
    out, dropped, unknown = OrderedDict(), [], []
    for key, value in state_dict.items():
        block, merge = _SWIN_BLOCK.match(key), _SWIN_MERGE.match(key)
        norm = _SWIN_NORM.match(key)
        if key in _SWIN_TOP:
            out[_SWIN_TOP[key]] = value
        elif norm:
            if int(norm.group(1)) == stages - 1:
                out[f'norm.{norm.group(2)}'] = value
            else:
                dropped.append(key)  # a seg backbone's per-stage output norm
        elif block:
            stage, index, rest = block.groups()
            if rest == 'attn.w_msa.relative_position_index':
                dropped.append(key)
                continue
            rest = rest.replace('attn.w_msa.', 'attn.', 1)
            rest = rest.replace('ffn.layers.0.0.', 'mlp.fc1.', 1)
            rest = rest.replace('ffn.layers.1.', 'mlp.fc2.', 1)
            out[f'layers.{stage}.blocks.{index}.{rest}'] = value
        elif merge:
            stage, part, kind = merge.groups()
            fix = (unfold_to_merging_reduction
                   if part == 'reduction' else unfold_to_merging_norm)
            out[f'layers.{int(stage) + 1}.downsample.{part}.{kind}'] = fix(
                value)
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointFormatError(
            format_error(source, f'{len(unknown)} key(s) of the Swin '
                         'backbone have no timm counterpart', unknown))
    return out, dropped


def to_timm(state_dict: StateDict,
            layout: Optional[str] = None,
            source: str = '<checkpoint>') -> Tuple[StateDict, str, List[str]]:
    """mmpretrain backbone keys (no prefix) -> timm keys.

    Returns:
        ``(timm_state_dict, layout, dropped)``.

    Raises:
        CheckpointFormatError: not such a backbone, or keys without a timm
            counterpart (named).
    """
    layout = layout or detect_layout(state_dict, source)
    if layout not in TIMM_LAYOUTS:
        raise ValueError(f'layout must be one of {TIMM_LAYOUTS}, got '
                         f'{layout!r}')
    if layout == 'swin':
        out, dropped = _swin_to_timm(state_dict, source)
    else:
        out, dropped = rename_keys(
            state_dict, _vit_rename, source,
            'of the ViT backbone have no timm counterpart')
    return out, layout, dropped
