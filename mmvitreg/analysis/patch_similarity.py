"""Per-layer patch cosine similarity: the over-smoothing diagnosis.

Gong et al. (2021) observe that in deep ViTs the patch tokens of one image
become nearly identical with depth (Figure 1 of the paper: mean pairwise
cosine similarity vs. block index). For the patch tokens ``h_1 ... h_N`` of
one image (class / distillation tokens excluded) the similarity is

.. math::

    \\mathrm{sim}(h) = \\frac{1}{N(N-1)} \\sum_{i \\neq j}
        \\frac{\\langle h_i, h_j \\rangle}{|h_i| |h_j|}
      = \\frac{|s|^2 - N}{N(N-1)}, \\quad s = \\sum_i \\frac{h_i}{|h_i|},

which is 1 for identical patches and 0 for mutually orthogonal ones; the
right-hand form costs O(N C) instead of O(N^2 C).

The tokens are read with forward hooks on the backbone's existing blocks, so
neither the architecture nor the checkpoints change:

* mmpretrain ``VisionTransformer`` and its subclasses (``DeiT3``,
  ``DistilledVisionTransformer``, ...): the output of every
  ``backbone.layers[i]``, ``(B, E + N, C)`` with ``E = num_extra_tokens``
  leading extra tokens, which are dropped;
* mmpretrain ``SwinTransformer``: the output of every block of every stage,
  ``(B, H_s W_s, C_s)`` (no extra tokens), numbered through the stages.

With ``final_norm=True`` (the default) the last block's tokens go through
the backbone's final norm (``ln1`` for ViT when ``final_norm`` is set, the
last stage's output norm for Swin when it exists), matching ``h^[L]`` of the
patch-wise cosine loss (``methods.md``: the last block's tokens after the
final norm).

This module is shared by ``tools/analysis/patch_similarity.py`` and
:class:`mmvitreg.engine.hooks.PatchSimilarityHook`.
"""
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from torch import Tensor

from ..models.losses.patch_cosine import mean_patch_cosine

__all__ = [
    'mean_patch_cosine', 'block_modules', 'capture_layer_tokens',
    'collect_layer_tokens', 'layer_similarity', 'batch_similarity'
]


def _backbone_of(model: nn.Module) -> nn.Module:
    """The backbone of a (possibly DDP-wrapped) classifier, or ``model``."""
    if is_model_wrapper(model):
        model = model.module
    return getattr(model, 'backbone', model)


def _is_vit_like(backbone: nn.Module) -> bool:
    from mmpretrain.models.backbones import VisionTransformer
    if isinstance(backbone, VisionTransformer):
        return True
    # Duck typing for ViT variants outside mmpretrain's class tree (e.g. a
    # local LV-ViT) that follow the same ``layers`` / ``num_extra_tokens``
    # convention.
    return (isinstance(getattr(backbone, 'layers', None), nn.ModuleList)
            and isinstance(getattr(backbone, 'num_extra_tokens', None), int))


def block_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """The transformer blocks whose outputs are analysed, in forward order.

    Args:
        model (nn.Module): A classifier with ``.backbone`` or a backbone.

    Returns:
        list[tuple[str, nn.Module]]: ``(name, block)`` pairs; names are the
        attribute paths inside the backbone (``layers.3``,
        ``stages.1.blocks.0``).

    Raises:
        TypeError: If the backbone is not a supported ViT or Swin.
    """
    from mmpretrain.models.backbones import SwinTransformer
    backbone = _backbone_of(model)
    if isinstance(backbone, SwinTransformer):
        return [(f'stages.{s}.blocks.{b}', block)
                for s, stage in enumerate(backbone.stages)
                for b, block in enumerate(stage.blocks)]
    if _is_vit_like(backbone):
        return [(f'layers.{i}', layer)
                for i, layer in enumerate(backbone.layers)]
    raise TypeError(
        'Patch similarity supports mmpretrain VisionTransformer (and '
        'subclasses such as DeiT3) and SwinTransformer backbones, got '
        f'{type(backbone).__name__} ({type(backbone).__module__})')


def _extra_tokens(backbone: nn.Module) -> int:
    from mmpretrain.models.backbones import SwinTransformer
    if isinstance(backbone, SwinTransformer):
        return 0
    return int(backbone.num_extra_tokens)


def _final_norm(backbone: nn.Module) -> Optional[nn.Module]:
    """The norm applied to the last block's output, if the backbone has one."""
    from mmpretrain.models.backbones import SwinTransformer
    if isinstance(backbone, SwinTransformer):
        return getattr(backbone, f'norm{len(backbone.stages) - 1}', None)
    if getattr(backbone, 'final_norm', False):
        return getattr(backbone, 'ln1', None)
    return None


@contextmanager
def capture_layer_tokens(model: nn.Module,
                         final_norm: bool = True) -> Iterator[List[Tensor]]:
    """Record the patch tokens of every block while the context is open.

    Registers a forward hook on each block of :func:`block_modules`; each
    forward pass of the backbone appends one ``(B, N, C)`` tensor per block
    (extra tokens dropped) to the yielded list. The hooks only read outputs,
    so the model's outputs are unchanged, and they are removed on exit,
    even on error.

    Args:
        model (nn.Module): A classifier with ``.backbone`` or a backbone.
        final_norm (bool): Pass the last block's tokens through the
            backbone's final norm (see the module docstring).

    Yields:
        list[Tensor]: The captured tokens, filled by forward passes.
    """
    backbone = _backbone_of(model)
    blocks = block_modules(backbone)
    num_extra = _extra_tokens(backbone)
    norm = _final_norm(backbone) if final_norm else None
    captured: List[Tensor] = []

    def make_hook(name: str, is_last: bool):

        def hook(module: nn.Module, args, output) -> None:
            if not isinstance(output, Tensor) or output.dim() != 3:
                raise TypeError(
                    f'Block {name} of {type(backbone).__name__} returned '
                    f'{type(output).__name__} '
                    f'{tuple(getattr(output, "shape", ()))}, expected a '
                    '(B, tokens, C) tensor')
            if is_last and norm is not None:
                output = norm(output)
            captured.append(output[:, num_extra:])

        return hook

    handles = [
        block.register_forward_hook(make_hook(name, i == len(blocks) - 1))
        for i, (name, block) in enumerate(blocks)
    ]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def collect_layer_tokens(model: nn.Module,
                         inputs: Tensor,
                         final_norm: bool = True) -> List[Tensor]:
    """Patch tokens of every block for one batch of preprocessed images.

    Runs ``backbone(inputs)`` once with :func:`capture_layer_tokens`.

    Args:
        model (nn.Module): A classifier with ``.backbone`` or a backbone.
        inputs (Tensor): Normalised images ``(B, 3, H, W)``.
        final_norm (bool): See :func:`capture_layer_tokens`.

    Returns:
        list[Tensor]: One ``(B, N_l, C_l)`` tensor per block.
    """
    backbone = _backbone_of(model)
    with capture_layer_tokens(backbone, final_norm=final_norm) as captured:
        backbone(inputs)
    num_blocks = len(block_modules(backbone))
    if len(captured) != num_blocks:
        raise RuntimeError(
            f'Expected {num_blocks} block outputs from '
            f'{type(backbone).__name__}, captured {len(captured)}')
    return list(captured)


@torch.no_grad()
def batch_similarity(model: nn.Module,
                     data: dict,
                     final_norm: bool = True) -> Tensor:
    """Per-image, per-block similarity for one collated batch.

    The batch goes through the model's ``data_preprocessor`` (in eval mode,
    as in validation) before the backbone.

    Args:
        model (nn.Module): An mmengine model (``data_preprocessor`` and
            ``backbone``), DDP-wrapped or not.
        data (dict): A batch as yielded by an mmengine data loader.
        final_norm (bool): See :func:`capture_layer_tokens`.

    Returns:
        Tensor: ``(B, L)`` similarities on the CPU, ``L`` blocks.
    """
    if is_model_wrapper(model):
        model = model.module
    inputs = model.data_preprocessor(data, False)['inputs']
    tokens = collect_layer_tokens(model, inputs, final_norm=final_norm)
    return torch.stack([mean_patch_cosine(t) for t in tokens], dim=1).cpu()


@torch.no_grad()
def layer_similarity(model: nn.Module,
                     data_loader: Iterable[dict],
                     num_images: int,
                     final_norm: bool = True) -> List[float]:
    """Mean patch similarity at every block over the first images of a loader.

    The curve of the paper's Figure 1. The model is put in eval mode for the
    measurement and its previous mode is restored afterwards.

    Args:
        model (nn.Module): An mmengine classifier (``data_preprocessor`` and
            ``backbone``), DDP-wrapped or not.
        data_loader (Iterable[dict]): Yields collated batches; read until
            ``num_images`` images have been seen (the last batch is cut).
        num_images (int): Number of images to average over.
        final_norm (bool): See :func:`capture_layer_tokens`.

    Returns:
        list[float]: One mean similarity per block.
    """
    if num_images < 1:
        raise ValueError(f'num_images must be positive, got {num_images}')
    if is_model_wrapper(model):
        model = model.module
    was_training = model.training
    model.eval()
    total: Optional[Tensor] = None
    seen = 0
    try:
        for data in data_loader:
            sims = batch_similarity(model, data, final_norm=final_norm)
            sims = sims[:num_images - seen].double()
            total = sims.sum(0) if total is None else total + sims.sum(0)
            seen += sims.shape[0]
            if seen >= num_images:
                break
    finally:
        model.train(was_training)
    if total is None or seen == 0:
        raise ValueError('The data loader yielded no images')
    return (total / seen).tolist()
