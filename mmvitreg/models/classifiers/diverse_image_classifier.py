"""ImageClassifier with the patch-diversification losses (Gong et al. 2021,
"Vision Transformers with Patch Diversification")."""
from typing import List, Optional

import torch
import torch.nn as nn
from mmpretrain.models.backbones import SwinTransformer, VisionTransformer
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..batch_augments.patch_mixing import PatchMixing
from ..utils.class_targets import class_targets
from ..utils.diverse_data_preprocessor import DiverseDataPreprocessor
from ..utils.patch_tokens import FIRST_LAYERS, record_patch_tokens


def _build_loss(cfg: Optional[dict], key: str) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict):
        raise TypeError(f'DiverseImageClassifier: `{key}` must be a dict, a '
                        f'module or None, got {type(cfg).__name__}')
    return MODELS.build(cfg)


@MODELS.register_module()
class DiverseImageClassifier(ImageClassifier):
    r"""``ImageClassifier`` trained with
    :math:`L = L_{cls} + a_1 L_{cos} + a_2 L_{contrastive} + a_3 L_{mixing}`.

    With every loss off (the default) this is ``ImageClassifier``: any
    backbone, the same state-dict keys, losses and predictions. The losses
    need a ``VisionTransformer`` (or subclass) or ``SwinTransformer``.

    The backbone is unchanged: patch tokens are read by forward hooks that
    exist only inside :meth:`loss` (see ``record_patch_tokens``), so
    :meth:`predict` and ``mode='tensor'`` cost exactly what
    ``ImageClassifier`` costs, and ``backbone.*`` keys of a checkpoint load
    into a plain mmpretrain backbone. The only extra parameters are the
    mixing loss's linear patch classifier ``patch_head`` (``nn.Linear(C, K)``,
    outside ``backbone.``). Each weighted term is returned under its own key
    (``loss_cosine``, ``loss_contrastive``, ``loss_mixing``); the weights are
    the losses' ``loss_weight``.

    Patch tokens: ``VisionTransformer`` (DeiT) last block after the final
    norm, class token excluded; ``SwinTransformer`` last stage. For the
    mixing loss, per-patch targets come from the ``patch_source`` /
    ``unmixed_score`` fields that ``DiverseDataPreprocessor`` (the default
    preprocessor here) copies from ``PatchMixing``; samples without them
    (another batch augment was chosen, or none) use their own ``gt_score``
    (or ``gt_label``) for every patch.

    Args:
        cosine_loss (dict, optional): e.g. ``dict(type='PatchCosineLoss',
            loss_weight=0.1)``. None switches the term off.
        contrastive_loss (dict, optional): e.g.
            ``dict(type='PatchContrastiveLoss', loss_weight=0.1)``.
        mixing_loss (dict, optional): e.g. ``dict(type='PatchMixingLoss',
            loss_weight=0.1)``.
        first_layer (str): ``h^[1]`` for the contrastive loss: ``'embed'``
            (paper default: patch embedding + position embedding, before the
            first block), ``'patch_embed'`` (before the position embedding,
            as in the released code) or ``'block1'`` (first block output,
            ViT only).
        patch_head_in_channels (int, optional): ``C`` of the last-layer
            tokens; inferred from the backbone when None.
        num_classes (int, optional): ``K`` of ``patch_head``; taken from
            ``head.num_classes`` when None.
        **kwargs: ``ImageClassifier`` arguments (backbone, neck, head,
            train_cfg, data_preprocessor, ...).
    """

    def __init__(self,
                 *args,
                 cosine_loss: Optional[dict] = None,
                 contrastive_loss: Optional[dict] = None,
                 mixing_loss: Optional[dict] = None,
                 first_layer: str = 'embed',
                 patch_head_in_channels: Optional[int] = None,
                 num_classes: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 **kwargs) -> None:
        data_preprocessor = data_preprocessor or {}
        if isinstance(data_preprocessor, dict):
            data_preprocessor = dict(data_preprocessor)
            data_preprocessor.setdefault('type', 'DiverseDataPreprocessor')
        super().__init__(*args, data_preprocessor=data_preprocessor, **kwargs)
        if first_layer not in FIRST_LAYERS:
            raise ValueError(f'DiverseImageClassifier: first_layer must be '
                             f'one of {FIRST_LAYERS}, got {first_layer!r}')
        self.first_layer = first_layer
        self.cosine_loss = _build_loss(cosine_loss, 'cosine_loss')
        self.contrastive_loss = _build_loss(contrastive_loss,
                                            'contrastive_loss')
        self.mixing_loss = _build_loss(mixing_loss, 'mixing_loss')
        self._check_token_backbone()
        self.patch_head = None
        if self.mixing_loss is not None:
            self.patch_head = nn.Linear(
                patch_head_in_channels or self._token_channels(),
                num_classes or self._num_classes())
            self._check_preprocessor()

    # ----- construction helpers -----
    def _check_token_backbone(self) -> None:
        """Patch tokens are read from ViT/Swin only; with every loss off the
        model is ``ImageClassifier`` and takes any backbone (ResNet, ...),
        as ``DiverseEncoderDecoder`` does without its loss."""
        if self.with_diversification and not isinstance(
                self.backbone, (VisionTransformer, SwinTransformer)):
            names = [key for key in ('cosine_loss', 'contrastive_loss',
                                     'mixing_loss')
                     if getattr(self, key) is not None]
            raise TypeError(
                f'DiverseImageClassifier: {", ".join(names)} need(s) the '
                'patch tokens of an mmpretrain VisionTransformer or '
                'SwinTransformer backbone, got '
                f'{type(self.backbone).__name__}')

    def _token_channels(self) -> int:
        if isinstance(self.backbone, SwinTransformer):
            return int(self.backbone.num_features[-1])
        return int(self.backbone.embed_dims)

    def _num_classes(self) -> int:
        num_classes = getattr(self.head, 'num_classes', None)
        if num_classes is None:
            raise ValueError('DiverseImageClassifier: mixing_loss needs '
                             '`num_classes` or a head with `num_classes`')
        return int(num_classes)

    def _check_preprocessor(self) -> None:
        augments = getattr(self.data_preprocessor.batch_augments, 'augments',
                           [])
        if any(isinstance(a, PatchMixing) for a in augments) and \
                not isinstance(self.data_preprocessor,
                               DiverseDataPreprocessor):
            raise ValueError(
                'DiverseImageClassifier: PatchMixing is in the batch augments '
                'but data_preprocessor is '
                f'{type(self.data_preprocessor).__name__}, which drops the '
                "patch sources; use type='DiverseDataPreprocessor'")

    # ----- losses -----
    @property
    def with_diversification(self) -> bool:
        return any(loss is not None for loss in (
            self.cosine_loss, self.contrastive_loss, self.mixing_loss))

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Classification loss of ``ImageClassifier`` plus the switched-on
        diversification terms, each under its own key."""
        if not self.with_diversification:
            return super().loss(inputs, data_samples)
        first_layer = (
            self.first_layer if self.contrastive_loss is not None else None)
        with record_patch_tokens(self.backbone, first_layer) as tokens:
            feats = self.extract_feat(inputs)
        losses = self.head.loss(feats, data_samples)
        if self.cosine_loss is not None:
            losses['loss_cosine'] = self.cosine_loss(tokens.last)
        if self.contrastive_loss is not None:
            losses['loss_contrastive'] = self.contrastive_loss(
                tokens.first, tokens.last)
        if self.mixing_loss is not None:
            target = self.patch_targets(data_samples, tokens.last.size(1))
            losses['loss_mixing'] = self.mixing_loss(
                self.patch_head(tokens.last), target.to(tokens.last.device))
        return losses

    @staticmethod
    def patch_targets(data_samples: List[DataSample],
                      num_tokens: int) -> torch.Tensor:
        """Per-patch targets ``y_src(i)``: ``(B, N, K)`` scores, or ``(B, N)``
        labels when the samples carry only ``gt_label``."""
        first = data_samples[0]
        if 'patch_source' in first and 'unmixed_score' in first:
            source = torch.stack(
                [s.patch_source.flatten() for s in data_samples])
            if source.size(1) != num_tokens:
                raise ValueError(
                    f'DataSample.patch_source has {source.size(1)} patches '
                    f'but the backbone produced {num_tokens} tokens: set '
                    'PatchMixing.patch_size to the token stride (16 for '
                    'DeiT-p16, 32 for the last Swin stage)')
            scores = torch.stack([s.unmixed_score for s in data_samples])
            return scores[source.to(scores.device)]
        targets = class_targets(data_samples)  # (B, K) or (B,)
        return targets.unsqueeze(1).expand(-1, num_tokens,
                                           *targets.shape[1:])
