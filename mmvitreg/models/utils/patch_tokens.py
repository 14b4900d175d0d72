"""Read patch tokens out of an unchanged mmpretrain backbone with temporary
forward hooks.

The one place that knows where each backbone family keeps its tokens; the
diversification losses (``DiverseImageClassifier``,
``TokenLabelingClassifier``), ``DiverseEncoderDecoder``,
``PatchSimilarityHook`` and ``tools/analysis/patch_similarity.py`` all read
them through :func:`record_patch_tokens`, so the similarity a user plots is
computed on the tokens the loss pushes apart.

* ``VisionTransformer`` and its subclasses (``DeiT3``, ``DeiT3ViT``,
  ``LVViT``, ``DistilledVisionTransformer``; also any module with an
  ``nn.ModuleList`` ``layers`` and an int ``num_extra_tokens``): the blocks
  are ``layers[i]``, ``(B, E + N, C)`` with ``E = num_extra_tokens`` leading
  class/distillation tokens, which are dropped; the final norm is ``ln1``
  when ``final_norm`` is set.
* ``SwinTransformer``: the blocks of every stage, ``(B, H_s W_s, C_s)`` (no
  extra tokens), numbered through the stages; the final norm is the last
  stage's output norm ``norm{S-1}``, present when that stage is in
  ``out_indices``.

``last`` (``h^[L]``) is the last block's tokens after the final norm (when
the backbone has one and ``final_norm=True``): the very tensor the backbone
computes, so gradients flow through it.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import is_model_wrapper
from mmpretrain.models.backbones import SwinTransformer, VisionTransformer

FIRST_LAYERS = ('embed', 'patch_embed', 'block1')


class PatchTokens:
    """Tokens captured while :func:`record_patch_tokens` is open.

    Attributes:
        last (Tensor | None): ``h^[L]``, ``(B, N, C)``, class/extra tokens
            excluded, of the latest forward pass.
        first (Tensor | None): ``h^[1]`` on the same ``(B, N, C)`` layout
            (for Swin: pooled to the last stage grid and zero-padded to its
            channels), only when requested.
        grid (tuple): ``(h, w)`` token grid of ``last``.
        layers (list[Tensor]): with ``every_layer=True``, one ``(B, N_l,
            C_l)`` tensor per block and forward pass, in forward order; the
            last block's entry is ``last``.
    """

    def __init__(self) -> None:
        self.last: Optional[torch.Tensor] = None
        self.first: Optional[torch.Tensor] = None
        self.grid: Optional[tuple] = None
        self.layers: List[torch.Tensor] = []
        self._raw: Dict[str, object] = {}


# ------------------------------------------------------------ the families
def backbone_of(model: nn.Module) -> nn.Module:
    """The backbone of a (possibly DDP-wrapped) model, or ``model``."""
    if is_model_wrapper(model):
        model = model.module
    return getattr(model, 'backbone', model)


def _is_vit_like(backbone: nn.Module) -> bool:
    if isinstance(backbone, VisionTransformer):
        return True
    return (isinstance(getattr(backbone, 'layers', None), nn.ModuleList)
            and isinstance(getattr(backbone, 'num_extra_tokens', None), int))


def block_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """The transformer blocks of a backbone, in forward order.

    Args:
        model (nn.Module): A backbone, or a model with ``.backbone``
            (DDP-wrapped or not).

    Returns:
        list[tuple[str, nn.Module]]: ``(name, block)`` pairs; names are the
        attribute paths inside the backbone (``layers.3``,
        ``stages.1.blocks.0``).

    Raises:
        TypeError: If the backbone is not a supported ViT or Swin.
    """
    backbone = backbone_of(model)
    if isinstance(backbone, SwinTransformer):
        return [(f'stages.{s}.blocks.{b}', block)
                for s, stage in enumerate(backbone.stages)
                for b, block in enumerate(stage.blocks)]
    if _is_vit_like(backbone):
        return [(f'layers.{i}', layer)
                for i, layer in enumerate(backbone.layers)]
    raise TypeError(
        'patch tokens can be read from mmpretrain VisionTransformer (and '
        'subclasses such as DeiT3, LVViT) and SwinTransformer backbones, got '
        f'{type(backbone).__name__} ({type(backbone).__module__})')


def num_extra_tokens(backbone: nn.Module) -> int:
    """Leading class/distillation tokens of the blocks' outputs."""
    if isinstance(backbone, SwinTransformer):
        return 0
    return int(backbone.num_extra_tokens)


def final_norm_module(backbone: nn.Module) -> Optional[nn.Module]:
    """The norm the backbone applies to its last block's output, if any."""
    if isinstance(backbone, SwinTransformer):
        return getattr(backbone, f'norm{len(backbone.stages) - 1}', None)
    if getattr(backbone, 'final_norm', False):
        return getattr(backbone, 'ln1', None)
    return None


# ------------------------------------------------------------------ hooks
def _check_block_output(backbone: nn.Module, name: str, output) -> None:
    if not isinstance(output, torch.Tensor) or output.dim() != 3:
        raise TypeError(
            f'Block {name} of {type(backbone).__name__} returned '
            f'{type(output).__name__} '
            f'{tuple(getattr(output, "shape", ()))}, expected a '
            '(B, tokens, C) tensor')


def _layer_hooks(backbone: nn.Module, tokens: PatchTokens,
                 final_norm: bool, every_layer: bool) -> List:
    """Hooks filling ``_raw['last']`` (and ``layers``): on the blocks, and
    on the final norm, whose output replaces the last block's."""
    blocks = block_modules(backbone)
    extra = num_extra_tokens(backbone)
    norm = final_norm_module(backbone) if final_norm else None
    last = len(blocks) - 1

    def save(output: torch.Tensor, is_last: bool) -> None:
        if is_last:
            tokens._raw['last'] = output[:, extra:]
        if every_layer:
            tokens.layers.append(output[:, extra:])

    def block_hook(name: str, is_last: bool):

        def hook(module, args, output):
            _check_block_output(backbone, name, output)
            if not (is_last and norm is not None):
                save(output, is_last)

        return hook

    handles = [
        block.register_forward_hook(block_hook(name, i == last))
        for i, (name, block) in enumerate(blocks)
        if every_layer or i == last
    ]
    if norm is not None:
        handles.append(norm.register_forward_hook(
            lambda module, args, output: save(output, True)))
    return handles


def _vit_first_hooks(backbone: nn.Module, tokens: PatchTokens,
                     first_layer: Optional[str]) -> List:
    """Hooks for the token grid and ``h^[1]`` of a ViT."""
    raw = tokens._raw
    extra = num_extra_tokens(backbone)

    def save_grid(module, args, output):
        raw['grid'] = tuple(output[1])
        if first_layer == 'patch_embed':
            raw['first'] = output[0]

    def save_first_input(module, args):
        raw['first'] = args[0][:, extra:]

    def save_first_output(module, args, output):
        raw['first'] = output[:, extra:]

    handles = []
    patch_embed = getattr(backbone, 'patch_embed', None)
    if patch_embed is not None:  # a duck-typed ViT may lack one
        handles.append(patch_embed.register_forward_hook(save_grid))
    if first_layer == 'embed':
        handles.append(
            backbone.layers[0].register_forward_pre_hook(save_first_input))
    elif first_layer == 'block1':
        handles.append(
            backbone.layers[0].register_forward_hook(save_first_output))
    return handles


def _swin_first_hooks(backbone: SwinTransformer, tokens: PatchTokens,
                      first_layer: Optional[str]) -> List:
    """Hooks for the token grid and ``h^[1]`` of a Swin."""
    raw = tokens._raw

    def save_first(module, args, output):
        raw['first'], raw['first_grid'] = output[0], tuple(output[1])

    def save_grid(module, args, output):
        raw['grid'] = tuple(output[1])

    handles = [backbone.stages[-1].register_forward_hook(save_grid)]
    if first_layer is not None:
        if first_layer == 'block1':
            raise ValueError("first_layer='block1' is not defined for Swin; "
                             "use 'embed' or 'patch_embed'")
        handles.append(backbone.patch_embed.register_forward_hook(save_first))
    return handles


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


def _finish(tokens: PatchTokens) -> None:
    """Move what the hooks saw into ``tokens``' public attributes."""
    raw = tokens._raw
    if 'last' not in raw:
        return
    tokens.last = raw['last']
    tokens.grid = raw.get('grid')
    if 'first' in raw:
        first = raw['first']
        if 'first_grid' in raw:
            first = _match_first_to_last(first, raw['first_grid'],
                                         tokens.last, tokens.grid)
        tokens.first = first


@contextmanager
def record_patch_tokens(backbone: nn.Module,
                        first_layer: Optional[str] = None,
                        final_norm: bool = True,
                        every_layer: bool = False
                        ) -> Iterator[PatchTokens]:
    """Capture patch tokens of the forward passes run inside the block.

    The hooks only keep references to tensors the backbone computes anyway
    and are removed on exit (even on error), so the backbone, its outputs,
    its state dict and inference outside the ``with`` block are untouched.
    ``last``, ``first`` and ``grid`` are set on exit; ``layers`` fills
    during the passes.

    ``last``: the last block's tokens, after the backbone's final norm when
    it has one and ``final_norm`` is True (see the module docstring).

    ``first_layer`` (ViT): ``'embed'`` (paper default) is the input of the
    first block (patch embedding + position embedding, after ``pre_norm``),
    ``'patch_embed'`` the patch embedding before the position embedding (as
    in the released code), ``'block1'`` the first block's output. Swin:
    ``'embed'`` and ``'patch_embed'`` both mean the patch-embedding output
    (before the optional absolute position embedding), average-pooled to
    the last stage grid and zero-padded to the last stage's channels.

    Args:
        backbone (nn.Module): mmpretrain ``VisionTransformer`` or
            ``SwinTransformer`` (or subclasses), or a model with
            ``.backbone`` (DDP-wrapped or not).
        first_layer (str, optional): Which ``h^[1]`` to capture, one of
            ``'embed'``, ``'patch_embed'``, ``'block1'``; None captures none.
        final_norm (bool): Read ``last`` after the final norm. Defaults to
            True.
        every_layer (bool): Also record every block in ``layers``.
    """
    if first_layer is not None and first_layer not in FIRST_LAYERS:
        raise ValueError(f'first_layer must be one of {FIRST_LAYERS} or None, '
                         f'got {first_layer!r}')
    backbone = backbone_of(backbone)
    tokens = PatchTokens()
    handles = _layer_hooks(backbone, tokens, final_norm, every_layer)
    try:
        if isinstance(backbone, SwinTransformer):
            handles += _swin_first_hooks(backbone, tokens, first_layer)
        else:
            handles += _vit_first_hooks(backbone, tokens, first_layer)
        yield tokens
    finally:
        for handle in handles:
            handle.remove()
    _finish(tokens)
