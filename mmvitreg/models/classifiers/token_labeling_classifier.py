"""Image classifier trained with token labeling and MixToken (Jiang et al.
2021, LV-ViT), combinable with the patch-diversification losses."""
from contextlib import ExitStack
from typing import List, Optional

import torch
import torch.nn as nn
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

from mmvitreg.structures.token_labels.batch_expand import (
    TokenLabelCrop,
    expand_token_labels,
)

from ..batch_augments.mix_token import MixToken, TokenMix
from ..utils.class_targets import class_targets
from ..utils.patch_tokens import record_patch_tokens
from .diverse_image_classifier import DiverseImageClassifier


@MODELS.register_module()
class TokenLabelingClassifier(DiverseImageClassifier):
    r"""``DiverseImageClassifier`` plus token labeling:

    .. math::
        L = H(X_{cls}, y_{cls}) + \beta \frac{1}{N} \sum_i H(X_i, y_i)
        \;[+ a_1 L_{cos} + a_2 L_{contrastive} + a_3 L_{mixing}]

    :math:`X_i` is ``dense_head`` (a linear layer shared over positions) on
    every last-layer patch token (after the final norm, class token
    excluded), read with the same forward hooks as the diversification
    losses, so the backbone (``VisionTransformer``, ``LVViT``) and its
    checkpoint keys stay plain. The diversification losses are off by
    default (``cosine_loss``/``contrastive_loss``/``mixing_loss`` as in the
    parent).

    Token labels: every training ``DataSample`` carries ``token_label``, a
    ``(K, Ht, Wt)`` float soft target on the model's token grid (rows sum to
    1), flattened row-major to ``(N, K)``; or a compact
    :class:`~mmvitreg.token_labels.TokenLabelCrop`
    (``AlignTokenLabel(expand='batch')``), expanded here for the whole batch
    on the model's device.

    MixToken (``mix_token``, training only): a box mask ``M`` is drawn on the
    token grid, a forward hook on ``backbone.patch_embed`` replaces its
    output by ``T1 * M + T2 * (1 - M)`` (partner = batch flipped), the token
    labels are mixed with the same ``M``, and ``gt_score`` becomes
    ``lam_bar y1 + (1 - lam_bar) y2``. The samples also get
    ``patch_source``/``unmixed_score`` (the ``PatchMixing`` hand-off), so the
    patch-mixing loss, when on, supervises each token with its source
    image's label: MixToken then plays ``PatchMixing``'s role.

    Image-level batch augments (Mixup/CutMix/PatchMixing in
    ``train_cfg.augments``) are refused: they would mix the images but not
    the token labels.

    Inference (``predict``): ``logits = X_cls + w * max_i X_i`` with
    ``w = aux_inference_weight`` (0.5 in LV-ViT; 0 or None gives the plain
    class-token prediction).

    Args:
        dense_head (dict): e.g. ``dict(type='DenseTokenHead',
            in_channels=384, num_classes=1000,
            loss=dict(type='TokenLabelingLoss', beta=0.5))``.
        mix_token (dict, optional): e.g. ``dict(type='MixToken', alpha=1.0,
            prob=1.0)``. None: no MixToken.
        aux_inference_weight (float, optional): ``w``. Defaults to 0.5.
        **kwargs: ``DiverseImageClassifier`` / ``ImageClassifier`` arguments.
    """

    def __init__(self,
                 *args,
                 dense_head: dict = None,
                 mix_token: Optional[dict] = None,
                 aux_inference_weight: Optional[float] = 0.5,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if dense_head is None:
            raise ValueError('TokenLabelingClassifier: `dense_head` is '
                             "required, e.g. dict(type='DenseTokenHead', "
                             'in_channels=..., num_classes=...)')
        self.dense_head = dense_head if isinstance(dense_head, nn.Module) \
            else MODELS.build(dense_head)
        if mix_token is None or isinstance(mix_token, MixToken):
            self.mix_token = mix_token
        elif isinstance(mix_token, dict):
            self.mix_token = BATCH_AUGMENTS.build(mix_token)
        else:
            raise TypeError('TokenLabelingClassifier: `mix_token` must be a '
                            f'dict, a MixToken or None, got '
                            f'{type(mix_token).__name__}')
        self.aux_inference_weight = float(aux_inference_weight or 0.)
        if getattr(self.data_preprocessor, 'batch_augments', None) is not None:
            raise ValueError(
                'TokenLabelingClassifier: train_cfg.augments (image-level '
                'Mixup/CutMix/PatchMixing) would leave the token labels '
                "unmixed; use mix_token=dict(type='MixToken') and set "
                'train_cfg=None')

    # ----- targets -----
    def token_targets(self, data_samples: List[DataSample],
                      device: torch.device) -> torch.Tensor:
        """The samples' ``token_label`` as ``(B, K, Ht, Wt)`` on ``device``."""
        if not data_samples or 'token_label' not in data_samples[0]:
            raise KeyError(
                'TokenLabelingClassifier: the data samples have no '
                '`token_label` field; add the token-label transforms '
                '(LoadTokenLabel ... PackInputs with token_label) to the '
                'training pipeline')
        labels = [s.token_label for s in data_samples]
        if isinstance(labels[0], TokenLabelCrop):
            return expand_token_labels(labels, device)
        labels = torch.stack(labels).to(device).float()
        if labels.dim() != 4:
            raise ValueError('DataSample.token_label must be (K, Ht, Wt), '
                             f'got {tuple(labels.shape[1:])}')
        return labels

    def _class_scores(self, data_samples: List[DataSample],
                      num_classes: int) -> torch.Tensor:
        """``(B, K)`` class targets: ``gt_score`` or one-hot ``gt_label``."""
        targets = class_targets(data_samples)
        if targets.dim() == 2:
            return targets.float()
        return MixToken.one_hot(targets, num_classes)

    def _apply_mix(self, mix: TokenMix, targets: torch.Tensor,
                   data_samples: List[DataSample]) -> torch.Tensor:
        """Mix token labels and class targets in place of the samples' own;
        record per-token sources for the patch-mixing loss."""
        scores = self._class_scores(data_samples, targets.size(-1))
        mixed = MixToken.mix_scores(scores, mix)
        source = MixToken.patch_source(mix, len(data_samples))
        for sample, score, unmixed, src in zip(data_samples, mixed, scores,
                                               source, strict=True):
            sample.set_gt_score(score)
            sample.set_field(unmixed, 'unmixed_score')
            sample.set_field(src, 'patch_source')
        return MixToken.mix_dense_targets(targets, mix)

    # ----- training -----
    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Losses of ``DiverseImageClassifier`` (``loss`` and the switched-on
        diversification terms) plus ``loss_token``."""
        targets = self.token_targets(data_samples, inputs.device)
        grid = tuple(targets.shape[-2:])
        targets = targets.flatten(2).transpose(1, 2)  # (B, N, K)
        with ExitStack() as stack:
            if self.mix_token is not None and self.training:
                mix = self.mix_token.sample(grid, inputs.device)
                if mix is not None:
                    targets = self._apply_mix(mix, targets, data_samples)
                    handle = self.backbone.patch_embed.register_forward_hook(
                        self.mix_token.patch_embed_hook(mix))
                    stack.callback(handle.remove)
            tokens = stack.enter_context(record_patch_tokens(self.backbone))
            losses = super().loss(inputs, data_samples)
        if tokens.last is None:
            raise RuntimeError('TokenLabelingClassifier: no patch tokens were '
                               'recorded from the backbone')
        if tokens.last.size(1) != targets.size(1):
            raise ValueError(
                f'DataSample.token_label has a {grid[0]}x{grid[1]} grid but '
                f'the backbone produced a {tokens.grid[0]}x{tokens.grid[1]} '
                'token grid: generate/crop the token labels to the model\'s '
                'token grid')
        losses.update(self.dense_head.loss(tokens.last, targets))
        return losses

    # ----- inference -----
    def predict(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """``X_cls + w * max_i X_i`` (LV-ViT inference), softmaxed by the
        head; the plain class-token prediction when ``w == 0``."""
        if not self.aux_inference_weight:
            return super().predict(inputs, data_samples, **kwargs)
        with record_patch_tokens(self.backbone) as tokens:
            feats = self.extract_feat(inputs)
        logits = self.head(feats) + self.aux_inference_weight * \
            self.dense_head.aux_logits(tokens.last)
        return self.head._get_predictions(logits, data_samples)
