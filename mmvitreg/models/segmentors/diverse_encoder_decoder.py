"""mmseg ``EncoderDecoder`` with an optional patch-diversity loss on the
backbone's last tokens during fine-tuning (Gong et al. 2021's cosine term)."""
from typing import Optional, Union

import torch.nn as nn
from mmpretrain.models.backbones import SwinTransformer, VisionTransformer
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ..utils.patch_tokens import record_patch_tokens

#: ``loss_weight`` used when ``diversity_loss`` does not give one: the
#: pretraining weight of the cosine term (configs/pretrain/*_diverse.py);
#: methods.md gives no fine-tuning weight.
DEFAULT_LOSS_WEIGHT = 0.1
#: ``type`` used when ``diversity_loss`` does not give one.
DEFAULT_LOSS_TYPE = 'PatchCosineLoss'
#: Loss-dict key of the weighted term (as ``DiverseImageClassifier``'s).
LOSS_KEY = 'loss_cosine'


def build_diversity_loss(
        cfg: Union[dict, nn.Module, None]) -> Optional[nn.Module]:
    """Build ``diversity_loss`` from mmpretrain's registry (where mmvitreg's
    patch losses live) whatever the default scope is.

    Missing ``type`` means ``'PatchCosineLoss'``, missing ``loss_weight``
    means :data:`DEFAULT_LOSS_WEIGHT`, so ``dict()`` is the cosine loss at
    weight 0.1. A type without a scope prefix is looked up in mmpretrain.
    """
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict):
        raise TypeError('DiverseEncoderDecoder: `diversity_loss` must be a '
                        f'dict, a module or None, got {type(cfg).__name__}')
    cfg = dict(cfg)
    cfg.setdefault('type', DEFAULT_LOSS_TYPE)
    cfg.setdefault('loss_weight', DEFAULT_LOSS_WEIGHT)
    if isinstance(cfg['type'], str) and '.' not in cfg['type']:
        cfg.setdefault('_scope_', 'mmpretrain')
    try:
        return MMPRETRAIN_MODELS.build(cfg)
    except KeyError as err:
        raise KeyError(f'DiverseEncoderDecoder: `diversity_loss` type '
                       f'{cfg["type"]!r} is not a registered mmpretrain '
                       f"model (mmvitreg's is 'PatchCosineLoss'): "
                       f'{err}') from err


@MODELS.register_module()
class DiverseEncoderDecoder(EncoderDecoder):
    r"""``EncoderDecoder`` whose training loss may add the patch-wise cosine
    loss on the backbone's last tokens:
    :math:`L = L_{decode} + L_{aux} + a\, L_{cos}(h^{[L]})`, with
    :math:`L_{cos} = \mathrm{mean}_b \frac{1}{N(N-1)} \sum_{i \ne j}
    \cos(h_i, h_j)` over the ``(B, N, C)`` last tokens (class token
    excluded), returned as ``loss_cosine`` (:math:`a L_{cos}`).

    With ``diversity_loss=None`` (the default) this *is* ``EncoderDecoder``:
    same modules, same state dict, same loss dict, bit for bit. The loss adds
    no parameters either way, and tokens are read by forward hooks that exist
    only inside :meth:`loss` (``record_patch_tokens``), so inference,
    ``mode='tensor'`` and checkpoints are those of ``EncoderDecoder``.

    "Last tokens" :math:`h^{[L]}`, per backbone:

    - mmpretrain ``VisionTransformer`` (and subclasses: ``DeiT3ViT``,
      ``LVViT``): the output of the last block ``layers[-1]``, class/extra
      tokens dropped, ``(B, h*w, C)``, whatever ``out_indices`` are (all
      blocks run). With the segmentation configs' ``final_norm=False`` this
      is the un-normalised last-block output, i.e. the tensor the feature
      map of index ``num_layers - 1`` carries; pretraining
      (``final_norm=True``) takes it after the final norm ``ln1``, which the
      segmentation backbone does not have. LayerNorm re-centres each token,
      so the fine-tuning ``loss_cosine`` is not numerically comparable to
      the pretraining one.
    - mmpretrain ``SwinTransformer``: the last stage's output, after its
      ``norm3`` when stage 3 is in ``out_indices`` (as in the segmentation
      configs, where it is the 4th feature map fed to ``UPerHead``), the
      same tokens pretraining uses.

    Args:
        diversity_loss (dict | nn.Module, optional): a loss mapping
            ``(B, N, C)`` tokens to a scalar, built from mmpretrain's
            registry, e.g. ``dict(type='PatchCosineLoss', loss_weight=0.1)``.
            ``type`` defaults to ``'PatchCosineLoss'`` and ``loss_weight`` to
            0.1 (the pretraining weight). None (default) switches it off.
        *args, **kwargs: ``EncoderDecoder`` arguments (backbone, neck,
            decode_head, auxiliary_head, train_cfg, test_cfg,
            data_preprocessor, pretrained, init_cfg).
    """

    def __init__(self, *args, diversity_loss: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if diversity_loss is not None and not isinstance(
                self.backbone, (VisionTransformer, SwinTransformer)):
            raise TypeError(
                'DiverseEncoderDecoder: diversity_loss needs an mmpretrain '
                'VisionTransformer or SwinTransformer backbone (e.g. '
                "type='mmpretrain.VisionTransformer'), got "
                f'{type(self.backbone).__name__}')
        self.diversity_loss = build_diversity_loss(diversity_loss)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """``EncoderDecoder.loss`` (``decode.*``, ``aux.*``) plus
        ``loss_cosine`` when ``diversity_loss`` is set.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` images.
            data_samples (list[SegDataSample]): with ``gt_sem_seg``.
        """
        if self.diversity_loss is None:
            return super().loss(inputs, data_samples)
        with record_patch_tokens(self.backbone) as tokens:
            losses = super().loss(inputs, data_samples)
        losses[LOSS_KEY] = self.diversity_loss(tokens.last)
        return losses
