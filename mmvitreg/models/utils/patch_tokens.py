"""Read first- and last-layer patch tokens out of an unchanged mmpretrain
backbone with temporary forward hooks."""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.backbones import SwinTransformer, VisionTransformer

FIRST_LAYERS = ('embed', 'patch_embed', 'block1')


class PatchTokens:
    """Tokens captured during one forward pass.

    Attributes:
        last (Tensor | None): ``h^[L]``, ``(B, N, C)``, class/extra tokens
            excluded.
        first (Tensor | None): ``h^[1]`` on the same ``(B, N, C)`` layout
            (for Swin: pooled to the last stage grid and zero-padded to its
            channels), only when requested.
        grid (tuple): ``(h, w)`` token grid of ``last``.
    """

    def __init__(self) -> None:
        self.last: Optional[torch.Tensor] = None
        self.first: Optional[torch.Tensor] = None
        self.grid: Optional[tuple] = None
        self._raw: Dict[str, object] = {}


def _match_first_to_last(first: torch.Tensor, first_grid: tuple,
                         last: torch.Tensor, last_grid: tuple) -> torch.Tensor:
    """Average-pool ``first`` ``(B, h0*w0, C0)`` to ``last_grid`` and zero-pad
    its channels to ``C``. Zero padding is an isometry, so the cosine
    geometry of the first-layer tokens is unchanged."""
    batch, _, channels = first.shape
    if tuple(first_grid) != tuple(last_grid):
        fmap = first.transpose(1, 2).reshape(batch, channels, *first_grid)
        fmap = F.adaptive_avg_pool2d(fmap, last_grid)
        first = fmap.flatten(2).transpose(1, 2)
    extra = last.size(-1) - channels
    if extra < 0:
        raise ValueError(f'first-layer tokens have {channels} channels, more '
                         f'than the last layer ({last.size(-1)})')
    return F.pad(first, (0, extra)) if extra else first


def _vit_hooks(backbone: VisionTransformer, tokens: PatchTokens,
               first_layer: Optional[str]) -> List:
    raw = tokens._raw
    extra = backbone.num_extra_tokens

    def save_grid(module, args, output):
        raw['grid'] = tuple(output[1])
        if first_layer == 'patch_embed':
            raw['first'] = output[0]

    def save_first_input(module, args):
        raw['first'] = args[0][:, extra:]

    def save_first_output(module, args, output):
        raw['first'] = output[:, extra:]

    def save_last(module, args, output):
        raw['last'] = output[:, extra:]

    last_module = backbone.ln1 if backbone.final_norm else backbone.layers[-1]
    handles = [
        backbone.patch_embed.register_forward_hook(save_grid),
        last_module.register_forward_hook(save_last)
    ]
    if first_layer == 'embed':
        handles.append(
            backbone.layers[0].register_forward_pre_hook(save_first_input))
    elif first_layer == 'block1':
        handles.append(
            backbone.layers[0].register_forward_hook(save_first_output))
    return handles


def _swin_hooks(backbone: SwinTransformer, tokens: PatchTokens,
                first_layer: Optional[str]) -> List:
    raw = tokens._raw
    last_index = len(backbone.stages) - 1

    def save_first(module, args, output):
        raw['first'], raw['first_grid'] = output[0], tuple(output[1])

    def save_stage(module, args, output):
        raw['last'], raw['grid'] = output[0], tuple(output[1])

    def save_norm(module, args, output):
        raw['last_norm'] = output

    handles = [backbone.stages[-1].register_forward_hook(save_stage)]
    if last_index in backbone.out_indices:
        norm = getattr(backbone, f'norm{last_index}')
        handles.append(norm.register_forward_hook(save_norm))
    if first_layer is not None:
        if first_layer == 'block1':
            raise ValueError("first_layer='block1' is not defined for Swin; "
                             "use 'embed' or 'patch_embed'")
        handles.append(backbone.patch_embed.register_forward_hook(save_first))
    return handles


@contextmanager
def record_patch_tokens(backbone: nn.Module,
                        first_layer: Optional[str] = None
                        ) -> Iterator[PatchTokens]:
    """Capture patch tokens of one forward pass of ``backbone``.

    The hooks only keep references to tensors the backbone computes anyway
    and are removed on exit, so the backbone, its state dict and inference
    outside the ``with`` block are untouched.

    ``VisionTransformer`` (DeiT): ``last`` is the last block's output after
    the final norm (the last block's output when ``final_norm=False``);
    ``first_layer='embed'`` (paper default) is the input of the first block
    (patch embedding + position embedding, after ``pre_norm``),
    ``'patch_embed'`` the patch embedding before the position embedding (as
    in the released code), ``'block1'`` the first block's output. Class and
    distillation tokens are dropped.

    ``SwinTransformer``: ``last`` is the last stage's output, after its
    ``norm{i}`` if that stage is in ``out_indices``; ``first`` (``'embed'``
    and ``'patch_embed'`` both mean the patch-embedding output, before the
    optional absolute position embedding) is average-pooled to the last
    stage grid and zero-padded to the last stage's channels.

    Args:
        backbone (nn.Module): mmpretrain ``VisionTransformer`` or
            ``SwinTransformer`` (or subclasses).
        first_layer (str, optional): Which ``h^[1]`` to capture, one of
            ``'embed'``, ``'patch_embed'``, ``'block1'``; None captures none.
    """
    if first_layer is not None and first_layer not in FIRST_LAYERS:
        raise ValueError(f'first_layer must be one of {FIRST_LAYERS} or None, '
                         f'got {first_layer!r}')
    tokens = PatchTokens()
    if isinstance(backbone, VisionTransformer):
        handles = _vit_hooks(backbone, tokens, first_layer)
    elif isinstance(backbone, SwinTransformer):
        handles = _swin_hooks(backbone, tokens, first_layer)
    else:
        raise TypeError('patch-token extraction supports mmpretrain '
                        'VisionTransformer and SwinTransformer backbones, got '
                        f'{type(backbone).__name__}')
    try:
        yield tokens
    finally:
        for handle in handles:
            handle.remove()
    raw = tokens._raw
    if 'last' not in raw:
        return
    tokens.last = raw.get('last_norm', raw['last'])
    tokens.grid = raw['grid']
    if 'first' in raw:
        first = raw['first']
        if 'first_grid' in raw:
            first = _match_first_to_last(first, raw['first_grid'],
                                         tokens.last, tokens.grid)
        tokens.first = first
