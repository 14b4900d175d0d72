"""TokenLabelingClassifier: dense token loss, MixToken, LV-ViT inference and
the patch-diversification losses in one model."""
import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'pretrain'
K = 5
VIT = dict(
    type='VisionTransformer',
    arch=dict(embed_dims=32, num_layers=2, num_heads=2,
              feedforward_channels=64),
    img_size=32, patch_size=4)  # 8x8 token grid
LVVIT = dict(
    type='LVViT',
    arch=dict(embed_dims=32, num_layers=2, num_heads=2,
              feedforward_channels=64, skip_lam=2.0, stem_channels=8),
    img_size=32, patch_size=4)
DIVERSITY = dict(
    cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
    contrastive_loss=dict(type='PatchContrastiveLoss', loss_weight=0.2),
    mixing_loss=dict(type='PatchMixingLoss', loss_weight=0.3))


def _cfg(backbone=VIT, mix_token=True, **kwargs):
    cfg = dict(
        type='TokenLabelingClassifier',
        backbone=copy.deepcopy(backbone),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=K,
                  in_channels=32),
        dense_head=dict(type='DenseTokenHead', in_channels=32, num_classes=K,
                        loss=dict(type='TokenLabelingLoss', beta=0.5)),
        mix_token=dict(type='MixToken') if mix_token else None,
        data_preprocessor=dict(num_classes=K))
    cfg.update(kwargs)
    return cfg


def _data(batch_size=4, grid=(8, 8)):
    gen = torch.Generator().manual_seed(0)
    samples = []
    for b in range(batch_size):
        sample = DataSample().set_gt_label(b % K)
        sample.set_field(torch.randn(K, *grid, generator=gen).softmax(0),
                         'token_label', field_type='data')
        samples.append(sample)
    return dict(inputs=torch.rand(batch_size, 3, 32, 32, generator=gen) * 255,
                data_samples=samples)


def _raw(model, inputs):
    """All tokens after the final norm, ``(B, 1 + N, C)``, read through
    ``out_type='raw'`` (no hooks)."""
    model.backbone.out_type = 'raw'
    try:
        return model.backbone(inputs)[-1]
    finally:
        model.backbone.out_type = 'cls_token'


def test_loss_keys_and_dense_value_without_mixing():
    model = MODELS.build(_cfg(mix_token=False))
    data = model.data_preprocessor(_data(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'loss_token'}
    # loss_token = 0.5 * mean_{b,i} H(dense_head(h_i), y_i)
    with torch.no_grad():
        raw = _raw(model, data['inputs'])
        logits = model.dense_head.fc(raw[:, 1:])
        targets = torch.stack([s.token_label for s in data['data_samples']])
        targets = targets.flatten(2).transpose(1, 2)
        expected = 0.5 * -(targets * F.log_softmax(logits, -1)).sum(-1).mean()
        cls_expected = F.cross_entropy(
            model.head([raw[:, 0]]), torch.arange(4) % K)
    assert torch.allclose(losses['loss_token'], expected, atol=1e-6)
    assert torch.allclose(losses['loss'], cls_expected, atol=1e-6)


@pytest.mark.parametrize('backbone', [VIT, LVVIT])
def test_train_step_with_mix_token(backbone):
    np.random.seed(0)
    model = MODELS.build(_cfg(backbone))
    data = model.data_preprocessor(_data(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'loss_token'}
    assert 'patch_source' in data['data_samples'][0]  # the batch was mixed
    sum(losses.values()).backward()
    assert model.dense_head.fc.weight.grad.abs().sum() > 0
    assert model.backbone.cls_token.grad.abs().sum() > 0
    assert not any(m._forward_hooks or m._forward_pre_hooks
                   for m in model.modules())
    # checkpoint layout: plain backbone keys + dense_head.fc
    extra = {k for k in model.state_dict()
             if not k.startswith(('backbone.', 'head.',
                                  'data_preprocessor.'))}
    assert extra == {'dense_head.fc.weight', 'dense_head.fc.bias'}


def test_predict_adds_half_the_max_dense_logit():
    model = MODELS.build(_cfg()).eval()
    inputs = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        preds = model(inputs, mode='predict')
        raw = _raw(model, inputs)
        x_cls = model.head([raw[:, 0]])
        x_dense = model.dense_head.fc(raw[:, 1:])  # (B, N, K)
        expected = F.softmax(x_cls + 0.5 * x_dense.max(dim=1).values, dim=1)
        plain = F.softmax(x_cls, dim=1)
    scores = torch.stack([p.pred_score for p in preds])
    assert torch.allclose(scores, expected, atol=1e-6)
    assert not torch.allclose(scores, plain, atol=1e-3)
    # aux_inference_weight=0: the class token alone
    model.aux_inference_weight = 0.
    with torch.no_grad():
        scores = torch.stack(
            [p.pred_score for p in model(inputs, mode='predict')])
    assert torch.allclose(scores, plain, atol=1e-6)


def test_with_the_diversity_losses_in_one_model():
    np.random.seed(2)
    model = MODELS.build(_cfg(**DIVERSITY))
    data = model.data_preprocessor(_data(), True)
    samples = data['data_samples']
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'loss_token', 'loss_cosine',
                           'loss_contrastive', 'loss_mixing'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.patch_head.weight.grad.abs().sum() > 0
    assert model.dense_head.fc.weight.grad.abs().sum() > 0
    # the mixing loss's per-patch targets follow MixToken's sources: own
    # label outside the box, the partner's (batch flipped) inside
    mask = samples[0].patch_source.flatten() == 0
    assert 0 < mask.float().mean() < 1
    targets = model.patch_targets(samples, 64)  # (B, N, K)
    own = F.one_hot(torch.tensor(0), K).float()
    partner = F.one_hot(torch.tensor(3), K).float()
    assert torch.equal(targets[0][mask], own.expand(int(mask.sum()), K))
    assert torch.equal(targets[0][~mask],
                       partner.expand(int((~mask).sum()), K))


def test_missing_or_misaligned_token_labels_raise():
    model = MODELS.build(_cfg(mix_token=False))
    data = model.data_preprocessor(_data(), True)
    for sample in data['data_samples']:
        del sample.token_label
    with pytest.raises(KeyError, match='token_label'):
        model(**data, mode='loss')
    data = model.data_preprocessor(_data(grid=(4, 4)), True)
    with pytest.raises(ValueError, match='4x4 grid'):
        model(**data, mode='loss')
    with pytest.raises(ValueError, match='dense_head'):
        MODELS.build(_cfg(dense_head=None))


@pytest.mark.parametrize('name,backbone,layers,losses', [
    ('lvvit_s_token_labeling', 'LVViT', 16, False),
    ('lvvit_m_token_labeling', 'LVViT', 20, False),
    ('deit_s_token_labeling', 'VisionTransformer', 12, False),
    ('deit_s24_diverse_token_labeling', 'VisionTransformer', 24, True),
])
def test_configs_build(name, backbone, layers, losses):
    cfg = Config.fromfile(str(CONFIGS / f'{name}.py'))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'TokenLabelingClassifier'
    assert type(model.backbone).__name__ == backbone
    assert len(model.backbone.layers) == layers
    assert model.with_diversification == losses
    assert model.mix_token is not None and model.aux_inference_weight == 0.5
    assert model.data_preprocessor.batch_augments is None
    pipeline = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline[:6] == ['LoadImageFromFile', 'LoadTokenLabel',
                            'RandomResizedCropWithBox', 'RandomFlip',
                            'RandAugment', 'AlignTokenLabel']
    # RandAugment's geometric ops record their warps for the label map
    ops = [p['type'] for p in cfg.train_dataloader.dataset.pipeline[4]
           ['policies']]
    assert {'TrackedRotate', 'TrackedShear', 'TrackedTranslate'} <= set(ops)
    assert not {'Rotate', 'Shear', 'Translate'} & set(ops)
    # the full-size recipes expand the labels per batch, on the device
    assert cfg.train_dataloader.dataset.pipeline[5]['expand'] == 'batch'
    assert cfg.train_dataloader.dataset.pipeline[-1] == dict(
        type='PackInputs', algorithm_keys=['token_label'])
