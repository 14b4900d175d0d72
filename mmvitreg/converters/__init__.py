"""Converters from public checkpoint formats to mmpretrain backbone keys,
and back to timm's (:mod:`.to_timm`, for exporting).

Not imported by ``mmvitreg/__init__.py`` (nothing here is registered);
``tools/convert_checkpoint.py`` and the tests import it directly.
"""
from .base import CheckpointFormatError, Conversion, unwrap_state_dict
from .convert import (
    FORMATS,
    convert_file,
    convert_state_dict,
    detect_format,
    slim_checkpoint,
)
from .lvvit import RELEASES as LVVIT_RELEASES
from .lvvit import convert_lvvit, lvvit_grid
from .pos_embed import grid_for_image, infer_grid, resize_grid_pos_embed
from .timm_swin import convert_timm_swin, relative_position_index
from .timm_vit import convert_timm_vit
from .to_timm import backbone_state_dict, detect_layout, to_timm

__all__ = [
    'CheckpointFormatError', 'Conversion', 'backbone_state_dict',
    'detect_layout', 'to_timm', 'FORMATS', 'LVVIT_RELEASES',
    'convert_file', 'convert_lvvit', 'convert_state_dict',
    'convert_timm_swin', 'convert_timm_vit', 'lvvit_grid',
    'detect_format', 'grid_for_image', 'infer_grid', 'relative_position_index',
    'resize_grid_pos_embed', 'slim_checkpoint', 'unwrap_state_dict'
]
