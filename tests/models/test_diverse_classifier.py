"""DiverseImageClassifier on tiny mmpretrain ViT and Swin backbones."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import SwinTransformer, VisionTransformer
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401
from mmvitreg.models.utils import record_patch_tokens

VIT = dict(
    type='VisionTransformer',
    arch=dict(embed_dims=32, num_layers=2, num_heads=2,
              feedforward_channels=64),
    img_size=32, patch_size=4)
SWIN = dict(
    type='SwinTransformer',
    arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1]),
    img_size=64, window_size=2, pad_small_map=True)
LOSSES = dict(
    cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
    contrastive_loss=dict(type='PatchContrastiveLoss', loss_weight=0.2),
    mixing_loss=dict(type='PatchMixingLoss', loss_weight=0.3))
KEYS = dict(cosine_loss='loss_cosine', contrastive_loss='loss_contrastive',
            mixing_loss='loss_mixing')


def _model_cfg(backbone, patch_size, **losses):
    in_channels = 32 if backbone is VIT else 128
    return dict(
        type='DiverseImageClassifier',
        backbone=copy.deepcopy(backbone),
        neck=None if backbone is VIT else dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5,
                  in_channels=in_channels),
        data_preprocessor=dict(num_classes=5),
        train_cfg=dict(augments=dict(type='PatchMixing',
                                     patch_size=patch_size)),
        **losses)


def _data(size, batch_size=4):
    torch.manual_seed(0)
    samples = [DataSample().set_gt_label(b % 5) for b in range(batch_size)]
    return dict(inputs=torch.rand(batch_size, 3, size, size) * 255,
                data_samples=samples)


@pytest.mark.parametrize('backbone,size,patch', [(VIT, 32, 4),
                                                 (SWIN, 64, 32)])
def test_train_step_logs_each_loss(backbone, size, patch):
    np.random.seed(0)
    model = MODELS.build(_model_cfg(backbone, patch, **LOSSES))
    data = model.data_preprocessor(_data(size), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'loss_cosine', 'loss_contrastive',
                           'loss_mixing'}
    sum(losses.values()).backward()
    assert model.patch_head.weight.grad.abs().sum() > 0
    assert model.backbone.patch_embed.projection.weight.grad is not None
    # no hooks survive loss(); predict works and needs no extra fields
    assert not any(m._forward_hooks or m._forward_pre_hooks
                   for m in model.backbone.modules())
    preds = model(torch.rand(2, 3, size, size), mode='predict')
    assert len(preds) == 2 and preds[0].pred_score.shape == (5,)


@pytest.mark.parametrize('key', list(LOSSES))
def test_each_loss_switches_on_alone(key):
    model = MODELS.build(_model_cfg(VIT, 4, **{key: LOSSES[key]}))
    data = model.data_preprocessor(_data(32), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', KEYS[key]}
    assert (model.patch_head is not None) == (key == 'mixing_loss')


def test_all_off_is_image_classifier():
    model = MODELS.build(_model_cfg(VIT, 4))
    data = model.data_preprocessor(_data(32), True)
    assert set(model(**data, mode='loss')) == {'loss'}
    assert not any(k.startswith('patch_head') for k in model.state_dict())


def test_loss_values_match_losses_on_recorded_tokens():
    np.random.seed(2)
    model = MODELS.build(_model_cfg(VIT, 4, **LOSSES))
    data = model.data_preprocessor(_data(32), True)
    losses = model(**data, mode='loss')
    # recompute h^[1] and h^[L] by hand from the backbone's public pieces
    backbone, x = model.backbone, data['inputs']
    tokens, grid = backbone.patch_embed(x)
    cls = backbone.cls_token.expand(x.size(0), -1, -1)
    h = torch.cat([cls, tokens], 1) + backbone.pos_embed
    first = h[:, 1:]
    for layer in backbone.layers:
        h = layer(h)
    last = backbone.ln1(h)[:, 1:]
    assert grid == (8, 8) and last.shape == (4, 64, 32)
    cos = MODELS.build(dict(type='PatchCosineLoss', loss_weight=0.1))(last)
    con = MODELS.build(dict(type='PatchContrastiveLoss',
                            loss_weight=0.2))(first, last)
    assert losses['loss_cosine'].item() == pytest.approx(cos.item(), 1e-5)
    assert losses['loss_contrastive'].item() == pytest.approx(con.item(),
                                                              1e-5)
    # mixing: each patch's target is the one-hot label of its source image
    source = torch.stack([s.patch_source.flatten()
                          for s in data['data_samples']])
    labels = torch.tensor([b % 5 for b in range(4)])[source]
    mix = 0.3 * F.cross_entropy(model.patch_head(last).flatten(0, 1),
                                labels.flatten())
    assert losses['loss_mixing'].item() == pytest.approx(mix.item(), 1e-5)


def test_mixing_targets_fall_back_to_own_label():
    model = MODELS.build(_model_cfg(VIT, 4, mixing_loss=LOSSES['mixing_loss']))
    samples = [DataSample().set_gt_label(b) for b in range(3)]
    target = model.patch_targets(samples, 6)
    assert torch.equal(target, torch.arange(3).view(-1, 1).expand(3, 6))


def test_mixing_grid_mismatch_is_reported():
    model = MODELS.build(_model_cfg(VIT, 8, mixing_loss=LOSSES['mixing_loss']))
    data = model.data_preprocessor(_data(32), True)
    with pytest.raises(ValueError, match='PatchMixing.patch_size'):
        model(**data, mode='loss')


def test_plain_preprocessor_with_patch_mixing_is_rejected():
    cfg = _model_cfg(VIT, 4, mixing_loss=LOSSES['mixing_loss'])
    cfg['data_preprocessor'] = dict(type='ClsDataPreprocessor')
    with pytest.raises(ValueError, match='DiverseDataPreprocessor'):
        MODELS.build(cfg)


@pytest.mark.parametrize('backbone,plain_type', [(VIT, VisionTransformer),
                                                 (SWIN, SwinTransformer)])
def test_checkpoint_loads_into_plain_models(backbone, plain_type):
    model = MODELS.build(_model_cfg(backbone, 4, **LOSSES))
    state = model.state_dict()
    extras = [k for k in state if not k.startswith(('backbone.', 'head.',
                                                    'neck.'))]
    assert extras == ['patch_head.weight', 'patch_head.bias']
    cfg = copy.deepcopy(backbone)
    plain = MODELS.build(cfg)
    assert type(plain) is plain_type
    plain.load_state_dict({k[len('backbone.'):]: v for k, v in state.items()
                           if k.startswith('backbone.')}, strict=True)
    classifier = _model_cfg(backbone, 4)
    classifier.update(type='ImageClassifier', train_cfg=None)
    MODELS.build(classifier).load_state_dict(
        {k: v for k, v in state.items() if k not in extras}, strict=True)


def test_swin_first_tokens_pooled_and_padded():
    backbone = MODELS.build(copy.deepcopy(SWIN))
    backbone.eval()  # no drop path; Swin's train() returns None
    x = torch.rand(2, 3, 64, 64)
    with record_patch_tokens(backbone, 'embed') as tokens:
        backbone(x)
    embed, grid = backbone.patch_embed(x)  # (2, 256, 16), (16, 16)
    pooled = F.avg_pool2d(
        embed.transpose(1, 2).reshape(2, 16, *grid), 8).flatten(2)
    assert tokens.grid == (2, 2) and tokens.last.shape == (2, 4, 128)
    assert torch.allclose(tokens.first[..., :16], pooled.transpose(1, 2),
                          atol=1e-6)
    assert torch.all(tokens.first[..., 16:] == 0)
    assert torch.allclose(tokens.last.transpose(1, 2).reshape(2, 128, 2, 2),
                          backbone(x)[-1], atol=1e-6)


def test_vit_first_layer_options():
    backbone = MODELS.build(copy.deepcopy(VIT))
    x = torch.rand(1, 3, 32, 32)
    with record_patch_tokens(backbone, 'patch_embed') as tokens:
        backbone(x)
    assert torch.allclose(tokens.first, backbone.patch_embed(x)[0])
    with record_patch_tokens(backbone, 'block1') as tokens:
        backbone(x)
    assert tokens.first.shape == (1, 64, 32)
    with pytest.raises(ValueError, match='first_layer'):
        with record_patch_tokens(backbone, 'bad'):
            pass
