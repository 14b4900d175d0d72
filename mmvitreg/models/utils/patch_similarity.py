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

The tokens of every block are read by
:func:`mmvitreg.models.utils.patch_tokens.record_patch_tokens` (forward
hooks on the backbone's existing blocks, so neither the architecture nor the
checkpoints change; class / distillation tokens dropped). With
``final_norm=True`` (the default) the last block's tokens go through the
backbone's final norm, exactly the ``h^[L]`` the patch-wise cosine loss
sees (``methods.md``: the last block's tokens after the final norm).

This module is shared by ``tools/analysis/patch_similarity.py`` (through
:mod:`mmvitreg.analysis.checkpoint_similarity`) and
:class:`mmvitreg.engine.hooks.PatchSimilarityHook`; it sits with the
models (it only reads their tokens) so that the hook, in ``engine``, need
not import ``analysis``, a layer above it.
"""
from typing import Iterable, List, Optional

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from torch import Tensor

from ..losses.patch_cosine import mean_patch_cosine
from .patch_tokens import backbone_of, block_modules, record_patch_tokens

__all__ = [
    'mean_patch_cosine', 'block_modules', 'collect_layer_tokens',
    'layer_similarity', 'batch_similarity'
]


def collect_layer_tokens(model: nn.Module,
                         inputs: Tensor,
                         final_norm: bool = True) -> List[Tensor]:
    """Patch tokens of every block for one batch of preprocessed images.

    Runs ``backbone(inputs)`` once inside :func:`record_patch_tokens`.

    Args:
        model (nn.Module): A classifier with ``.backbone`` or a backbone
            (DDP-wrapped or not).
        inputs (Tensor): Normalised images ``(B, 3, H, W)``.
        final_norm (bool): Read the last block after the backbone's final
            norm.

    Returns:
        list[Tensor]: One ``(B, N_l, C_l)`` tensor per block.
    """
    backbone = backbone_of(model)
    with record_patch_tokens(backbone, final_norm=final_norm,
                             every_layer=True) as tokens:
        backbone(inputs)
    num_blocks = len(block_modules(backbone))
    if len(tokens.layers) != num_blocks:
        raise RuntimeError(
            f'Expected {num_blocks} block outputs from '
            f'{type(backbone).__name__}, captured {len(tokens.layers)}')
    return list(tokens.layers)


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
        final_norm (bool): See :func:`collect_layer_tokens`.

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
        final_norm (bool): See :func:`collect_layer_tokens`.

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
