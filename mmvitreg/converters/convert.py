"""Format detection and dispatch: one public checkpoint -> slim checkpoint.

``convert_file(src, dst)`` loads ``src`` safely (tensors and plain data
only, see :func:`mmvitreg.compat.checkpoint_loading.safe_torch_load`),
detects or checks its format, converts the keys and writes::

    {'state_dict': {'backbone.<mmpretrain key>': tensor, ...},
     'meta': {'converted_from': src, 'type': fmt, 'target': ..., ...}}

which loads under torch's default ``weights_only=True`` and into an mmseg or
mmpretrain model with ``init_cfg=dict(type='Pretrained', checkpoint=dst,
prefix='backbone.')``.
"""
import os
import os.path as osp
from typing import Mapping, Optional, Tuple

import torch

from .base import (
    CheckpointFormatError,
    Conversion,
    StateDict,
    format_error,
    unwrap_state_dict,
)
from .lvvit import LVVIT_FORMATS, convert_lvvit, is_lvvit
from .pos_embed import Size
from .timm_swin import SWIN_FORMATS, convert_timm_swin, is_swin, swin_format
from .timm_vit import (
    VIT_FORMATS,
    convert_timm_vit,
    is_timm_vit,
    pos_embed_has_extra_tokens,
)

FORMATS = VIT_FORMATS + SWIN_FORMATS + LVVIT_FORMATS


def detect_format(checkpoint: Mapping,
                  state_dict: StateDict,
                  source: str = '<checkpoint>') -> str:
    """Name the format from key names and shapes.

    * Swin keys -> ``timm-swin`` (patch merging starts a stage) or
      ``swin-official`` (it ends one);
    * the released LV-ViT conv stem (``patch_embed.conv1``, ``bn1``, ...)
      next to ViT keys -> ``lvvit`` (checked before timm ViT, whose keys it
      also has);
    * timm ViT keys -> ``deit3`` when ``pos_embed`` has no class-token entry,
      else ``deit`` when wrapped in ``{'model': ...}`` (facebookresearch
      releases), else ``timm-vit``.

    Raises:
        CheckpointFormatError: none fits; the message names ``source`` and
            sample keys.
    """
    if is_swin(state_dict):
        return swin_format(state_dict)
    if is_lvvit(state_dict):
        return 'lvvit'
    if is_timm_vit(state_dict):
        if not pos_embed_has_extra_tokens(state_dict, source):
            return 'deit3'
        return 'deit' if 'model' in checkpoint else 'timm-vit'
    hint = ''
    if any('patch_embed.projection.' in k for k in state_dict):
        hint = (' (the keys already follow mmpretrain names: load it '
                "directly, with prefix='backbone.' if they start with it)")
    raise CheckpointFormatError(
        format_error(
            source, 'unknown checkpoint format: expected timm ViT/DeiT/DeiT '
            'III (patch_embed.proj, pos_embed, blocks.*), Swin '
            '(layers.*.blocks.*.attn.relative_position_bias_table) or '
            'LV-ViT (patch_embed.conv1, patch_embed.proj, blocks.*) keys; '
            f'supported --type values: {", ".join(FORMATS)}{hint}',
            state_dict))


def convert_state_dict(checkpoint: Mapping,
                       fmt: str = 'auto',
                       img_size: Optional[Size] = None,
                       patch_size: Optional[Size] = None,
                       window_size: Optional[int] = None,
                       source: str = '<checkpoint>',
                       deit3_target: str = 'deit3') -> Conversion:
    """Convert a loaded checkpoint (wrapped or bare state dict).

    Args:
        checkpoint: what ``torch.load`` returned.
        fmt: ``'auto'`` or one of :data:`FORMATS`.
        img_size: target input size for position embeddings.
        patch_size: target patch size (ViT; LV-ViT: only its own).
        window_size: target window size (Swin only).
        source: file name for messages.
        deit3_target: ``'deit3'`` or ``'vit'``, see
            :func:`~.timm_vit.convert_timm_vit`.
    """
    if fmt != 'auto' and fmt not in FORMATS:
        raise ValueError(f'unknown --type {fmt!r}; choose auto or one of '
                         f'{", ".join(FORMATS)}')
    state_dict = unwrap_state_dict(checkpoint, source)
    detected = fmt == 'auto'
    if detected:
        fmt = detect_format(checkpoint, state_dict, source)
    if fmt in VIT_FORMATS and is_lvvit(state_dict):
        raise CheckpointFormatError(
            format_error(
                source, f'--type {fmt} does not fit: this is a released '
                'LV-ViT (convolutional stem patch_embed.conv1/bn1/...); use '
                '--type lvvit', state_dict))
    if window_size is not None and fmt not in SWIN_FORMATS:
        raise ValueError('--window-size applies to Swin checkpoints only')
    if fmt in LVVIT_FORMATS:
        result = convert_lvvit(state_dict, img_size, patch_size, source)
    elif fmt in VIT_FORMATS:
        result = convert_timm_vit(state_dict, fmt, img_size, patch_size,
                                  source, deit3_target)
    else:
        if patch_size is not None:
            raise ValueError('--patch-size applies to ViT checkpoints only')
        result = convert_timm_swin(state_dict, fmt, window_size, img_size,
                                   source)
    result.notes.insert(
        0, f'format {fmt} '
        f'({"detected" if detected else "given"})')
    return result


def slim_checkpoint(result: Conversion,
                    source: str,
                    prefix: Optional[str] = 'backbone.') -> dict:
    """Tensors plus plain-data ``meta``: safe under ``weights_only``."""
    return {
        'state_dict':
        result.prefixed(prefix),
        'meta':
        dict(converted_from=str(source),
             type=result.format,
             target=result.target,
             prefix=prefix or '',
             arch=dict(result.arch),
             dropped=list(result.dropped),
             notes=list(result.notes)),
    }


def convert_file(src: str,
                 dst: str,
                 fmt: str = 'auto',
                 prefix: Optional[str] = 'backbone.',
                 **kwargs) -> Tuple[Conversion, dict]:
    """Load ``src``, convert it, write the slim checkpoint to ``dst``.

    ``kwargs`` go to :func:`convert_state_dict`. Returns the conversion and
    the saved dict.
    """
    from mmvitreg.compat.checkpoint_loading import safe_torch_load
    checkpoint = safe_torch_load(src, map_location='cpu')
    result = convert_state_dict(checkpoint, fmt, source=src, **kwargs)
    saved = slim_checkpoint(result, src, prefix)
    if osp.dirname(osp.abspath(dst)):
        os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(saved, dst)
    return result, saved
