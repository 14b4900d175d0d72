"""Export a backbone trained here to timm's layout (``.pth`` or
``.safetensors``).

``export_file(src, dst)`` loads a checkpoint of this suite (a classifier's
or a segmentor's: the ``backbone.*`` tensors of its ``state_dict``, which
is the EMA under mmengine's EMAHook) with the suite's safe loader, refuses
NaN/inf weights (naming them), renames to timm
(:func:`~.to_timm.to_timm`) and writes a plain tensor dict: what
``timm.create_model(name, num_classes=0)`` loads with ``strict=True``.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List

import torch

from .base import CheckpointFormatError, StateDict, format_error
from .to_timm import backbone_state_dict, to_timm

EXPORT_FORMATS = ('timm', 'safetensors')


@dataclass
class Export:
    """What was written: timm tensors, the layout, the dropped keys and
    the shape facts a ``timm.create_model`` call needs."""
    state_dict: StateDict
    layout: str
    dropped: List[str] = field(default_factory=list)
    arch: Dict[str, object] = field(default_factory=dict)


def _arch(state_dict: StateDict, layout: str) -> Dict[str, object]:
    """Settings readable from shapes (``num_heads`` is not: it is the
    config's ``arch``)."""
    proj = state_dict['patch_embed.proj.weight']
    arch: Dict[str, object] = dict(embed_dim=int(proj.shape[0]),
                                   patch_size=int(proj.shape[-1]))
    if layout == 'swin':
        arch['depths'] = [
            1 + max(int(k.split('.')[3]) for k in state_dict
                    if k.startswith(f'layers.{i}.blocks.'))
            for i in range(1 + max(
                int(k.split('.')[1]) for k in state_dict
                if k.startswith('layers.')))
        ]
    else:
        arch['depth'] = 1 + max(
            int(k.split('.')[1]) for k in state_dict
            if k.startswith('blocks.'))
        arch['no_embed_class'] = layout == 'deit3'
        arch['layer_scale'] = 'blocks.0.ls1.gamma' in state_dict
    return arch


def load_backbone(src: str, prefix: str = 'backbone.') -> StateDict:
    """The backbone tensors of ``src``, checked finite."""
    from mmvitreg.compat.checkpoint_loading import safe_torch_load
    from mmvitreg.models.utils.strict_load import check_finite
    checkpoint = safe_torch_load(src, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise CheckpointFormatError(f'{src}: not a checkpoint dict')
    state = checkpoint.get('state_dict', checkpoint)
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointFormatError(
            format_error(src, 'no tensors in its state_dict', state))
    check_finite(src, {'state_dict': tensors})
    return backbone_state_dict(tensors, prefix, src)


def export_file(src: str, dst: str, to: str = 'timm',
                prefix: str = 'backbone.') -> Export:
    """Load ``src``, convert its backbone to timm keys, write ``dst``.

    Raises:
        CheckpointFormatError: no backbone, or keys without timm names.
        NonFiniteError: NaN/inf weights, naming the tensors.
        UntrustedCheckpointError: ``src`` pickles arbitrary objects.
    """
    if to not in EXPORT_FORMATS:
        raise ValueError(f'--to must be one of {EXPORT_FORMATS}, got {to!r}')
    timm_state, layout, dropped = to_timm(load_backbone(src, prefix),
                                          source=src)
    timm_state = {k: v.contiguous() for k, v in timm_state.items()}
    if osp.dirname(osp.abspath(dst)):
        os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    if to == 'safetensors':
        from safetensors.torch import save_file
        save_file(timm_state, dst, metadata={'format': 'pt',
                                             'exported_from': str(src)})
    else:
        torch.save(timm_state, dst)
    return Export(timm_state, layout, dropped, _arch(timm_state, layout))
