"""Each mmvitreg subclass in its OpenMMLab parent's place, extras off.

Written after the checks mmpretrain's ``TestImageClassifier`` and mmseg's
segmentor tests make on the parents (build, ``loss``, ``predict``,
``mode='tensor'``, ``train_step``, an invalid mode), plus the state-dict
keys. Where the subclass adds nothing with its extras off
(``DiverseImageClassifier``, ``DiverseEncoderDecoder``) the parent's
weights are loaded into it and every output must be *equal* to the
parent's, one SGD step included; where the subclass is another architecture
behind the same interface (``LVViT`` for ``VisionTransformer``, ``DeiT3ViT``
for ``DeiT3``) the shapes, keys and types must match.
"""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmpretrain.registry import MODELS as CLS_MODELS
from mmpretrain.structures import DataSample
from mmseg.registry import MODELS as SEG_MODELS
from mmseg.structures import SegDataSample

import mmvitreg  # noqa: F401  (compat layer before mmseg)

NUM_CLASSES = 10
SIZE = 32
MEAN_STD = dict(mean=[127.5] * 3, std=[127.5] * 3)
TINY_VIT = dict(embed_dims=32, num_layers=2, num_heads=2,
                feedforward_channels=64)


def _classifier(backbone: dict, in_channels: int, neck=True, **extra):
    """mmpretrain's TestImageClassifier model, sized for 32 px inputs."""
    cfg = dict(
        type='ImageClassifier',
        backbone=backbone,
        head=dict(type='LinearClsHead', num_classes=NUM_CLASSES,
                  in_channels=in_channels,
                  loss=dict(type='CrossEntropyLoss')),
        data_preprocessor=dict(MEAN_STD),
        **extra)
    if neck:
        cfg['neck'] = dict(type='GlobalAveragePooling')
    return cfg


# ResNet-18 at 1/8 width (8..64 channels): the structure, not the cost
RESNET = _classifier(
    dict(type='ResNet', depth=18, stem_channels=8, base_channels=8), 64)
VIT = _classifier(
    dict(type='VisionTransformer', arch=TINY_VIT, img_size=SIZE,
         patch_size=8), 32, neck=False)
LVVIT = _classifier(
    dict(type='LVViT', arch=TINY_VIT, img_size=SIZE, patch_size=8), 32,
    neck=False)
DEIT3 = _classifier(
    dict(type='DeiT3', arch=TINY_VIT, img_size=SIZE, patch_size=8), 32,
    neck=False)
DEIT3VIT = _classifier(
    dict(type='DeiT3ViT', arch=TINY_VIT, img_size=SIZE, patch_size=8,
         drop_path_mode='linear', layer_scale_init_value=1e-5), 32,
    neck=False)


def _build(cfg: dict, scope: str = 'mmpretrain'):
    """``cfg`` built as from a config file in ``scope``, seeded weights."""
    init_default_scope(scope)
    torch.manual_seed(0)
    registry = CLS_MODELS if scope == 'mmpretrain' else SEG_MODELS
    return registry.build(ConfigDict(copy.deepcopy(cfg)))


_build_cls = _build


def _cls_data(batch: int = 2) -> dict:
    gen = torch.Generator().manual_seed(1)
    return dict(
        inputs=torch.randint(0, 256, (batch, 3, SIZE, SIZE), generator=gen,
                             dtype=torch.uint8),
        data_samples=[DataSample().set_gt_label(i % NUM_CLASSES)
                      for i in range(batch)])


def _sgd(model) -> OptimWrapper:
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))


def _assert_same_tensors(got, expected) -> None:
    assert list(got) == list(expected)
    for key in expected:
        assert torch.equal(got[key], expected[key]), key


def _same_sgd_step(parent, child, data) -> None:
    """One ``train_step`` (SGD) of each from the same weights on the same
    batch: the same logged losses and the same weights after."""
    for model in (parent, child):
        model.train()
    logs = [model.train_step(data(), _sgd(model))
            for model in (parent, child)]
    assert 'loss' in logs[0]
    _assert_same_tensors(logs[1], logs[0])
    _assert_same_tensors(child.state_dict(), parent.state_dict())


# ----- classifiers: DiverseImageClassifier is ImageClassifier ------------
@pytest.mark.parametrize('parent_cfg', [RESNET, VIT], ids=['resnet', 'vit'])
def test_diverse_classifier_is_image_classifier(parent_cfg):
    parent = _build_cls(parent_cfg)
    child = _build_cls(dict(parent_cfg, type='DiverseImageClassifier'))
    assert isinstance(child, type(parent))
    assert child.with_neck == parent.with_neck and child.with_head
    assert list(child.state_dict()) == list(parent.state_dict())
    child.load_state_dict(parent.state_dict())

    data = parent.data_preprocessor(_cls_data(), True)
    inputs, samples = data['inputs'], data['data_samples']
    expected = parent.loss(inputs, samples)
    assert expected['loss'].item() > 0
    # once each: a train-mode forward moves BN running statistics
    _assert_same_tensors(child(inputs, samples, mode='loss'), expected)

    for model in (parent, child):
        model.eval()
    assert torch.equal(child(inputs), parent(inputs))  # mode='tensor'
    assert child(inputs).shape == (2, NUM_CLASSES)
    got = child.predict(inputs, copy.deepcopy(samples))
    want = parent.predict(inputs, copy.deepcopy(samples))
    assert [p.pred_score.shape for p in got] == [(NUM_CLASSES, )] * 2
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g.pred_score, w.pred_score)
        assert torch.equal(g.pred_label, w.pred_label)
    with pytest.raises(RuntimeError, match='Invalid mode "unknown"'):
        child(inputs, mode='unknown')

    _same_sgd_step(parent, child, _cls_data)


def test_diverse_classifier_checks_backbone_only_for_its_losses():
    cfg = dict(RESNET, type='DiverseImageClassifier',
               cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1))
    with pytest.raises(TypeError, match='cosine_loss .*got ResNet'):
        _build_cls(cfg)


# ----- backbones in VisionTransformer's / DeiT3's place -------------------
def _same_interface(parent_cfg: dict, child_cfg: dict,
                    out_types: tuple) -> tuple:
    """Build both, run loss / tensor / predict / train_step on the same
    batch and return (parent, child) for key checks."""
    parent, child = _build_cls(parent_cfg), _build_cls(child_cfg)
    assert isinstance(child.backbone, type(parent.backbone))
    data = parent.data_preprocessor(_cls_data(), True)
    inputs, samples = data['inputs'], data['data_samples']
    losses = [m.loss(inputs, samples) for m in (parent, child)]
    assert list(losses[1]) == list(losses[0]) == ['loss']
    assert torch.isfinite(losses[1]['loss']) and losses[1]['loss'] > 0
    for model in (parent, child):
        model.eval()
    assert child(inputs).shape == parent(inputs).shape == (2, NUM_CLASSES)
    for mode in out_types:
        parent.backbone.out_type = child.backbone.out_type = mode
        shapes = [[o.shape for o in m.backbone(inputs)]
                  for m in (parent, child)]
        assert shapes[1] == shapes[0], mode
    parent.backbone.out_type = child.backbone.out_type = 'cls_token'
    predictions = child.predict(inputs, copy.deepcopy(samples))
    assert [p.pred_score.shape for p in predictions] == [(NUM_CLASSES, )] * 2
    child.train()
    before = {k: v.clone() for k, v in child.state_dict().items()}
    logs = child.train_step(_cls_data(), _sgd(child))
    assert 'loss' in logs and torch.isfinite(logs['loss'])
    assert not torch.equal(child.state_dict()['backbone.layers.1.ln1.weight'],
                           before['backbone.layers.1.ln1.weight'])
    return parent, child


def test_lvvit_in_vision_transformer_place():
    # avg_featmap builds ln2 in both; qkv_bias as mmpretrain's default
    parent, child = _same_interface(
        {**VIT, 'backbone': dict(VIT['backbone'], out_type='avg_featmap')},
        {**LVVIT, 'backbone': dict(LVVIT['backbone'], qkv_bias=True,
                                   out_type='avg_featmap')},
        ('cls_token', 'featmap', 'avg_featmap', 'raw'))
    # the same keys but for the convolutional patch embedding
    def outside_embed(model):
        return [k for k in model.state_dict()
                if not k.startswith('backbone.patch_embed.')]
    assert outside_embed(child) == outside_embed(parent)
    assert {k for k in child.state_dict()
            if k.startswith('backbone.patch_embed.proj')} == {
                'backbone.patch_embed.proj.weight',
                'backbone.patch_embed.proj.bias'}
    # mmpretrain's dynamic-size check: a 36 x 44 input, ceil(/8) grid
    child.backbone.out_type = 'featmap'
    out = child.backbone(torch.randn(1, 3, 36, 44))[-1]
    assert out.shape == (1, 32, 5, 6)


def test_deit3vit_in_deit3_place():
    # mmpretrain 1.2.0's DeiT3 builds no ln2, so no 'avg_featmap' there
    parent, child = _same_interface(DEIT3, DEIT3VIT,
                                    ('cls_token', 'featmap', 'raw'))
    assert list(child.state_dict()) == list(parent.state_dict())
    child.load_state_dict(parent.state_dict(), strict=True)


# ----- segmentors: DiverseEncoderDecoder is EncoderDecoder ---------------
SEG_CLASSES = 3
RESNET_FCN = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', size=(SIZE, SIZE),
                           **MEAN_STD),
    backbone=dict(type='ResNetV1c', depth=18, out_indices=(2, 3),
                  stem_channels=8, base_channels=8,
                  norm_cfg=dict(type='BN', requires_grad=True)),
    decode_head=dict(type='FCNHead', in_channels=64, in_index=1,
                     channels=16, num_convs=1, num_classes=SEG_CLASSES,
                     dropout_ratio=0.0),
    auxiliary_head=dict(type='FCNHead', in_channels=32, in_index=0,
                        channels=8, num_convs=1, num_classes=SEG_CLASSES,
                        dropout_ratio=0.0, loss_decode=dict(
                            type='CrossEntropyLoss', loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))


def _build_seg(cfg: dict):
    return _build(cfg, 'mmseg')


def _seg_data(batch: int = 2) -> dict:
    gen = torch.Generator().manual_seed(1)
    samples = []
    for _ in range(batch):
        shape = (SIZE, SIZE)
        sample = SegDataSample(metainfo=dict(img_shape=shape,
                                             ori_shape=shape))
        sample.gt_sem_seg = PixelData(data=torch.randint(
            0, SEG_CLASSES, (1, SIZE, SIZE), generator=gen))
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, SIZE, SIZE), generator=gen,
                            dtype=torch.uint8) for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('test_cfg', [
    dict(mode='whole'), dict(mode='slide', crop_size=(24, 24),
                             stride=(16, 16))], ids=['whole', 'slide'])
def test_diverse_encoder_decoder_is_encoder_decoder(test_cfg):
    parent_cfg = dict(RESNET_FCN, test_cfg=test_cfg)
    parent = _build_seg(parent_cfg)
    child = _build_seg(dict(parent_cfg, type='DiverseEncoderDecoder'))
    assert isinstance(child, type(parent))
    assert list(child.state_dict()) == list(parent.state_dict())
    child.load_state_dict(parent.state_dict())

    data = parent.data_preprocessor(_seg_data(), True)
    inputs, samples = data['inputs'], data['data_samples']
    expected = parent.loss(inputs, samples)
    assert set(expected) == {'decode.loss_ce', 'decode.acc_seg',
                             'aux.loss_ce', 'aux.acc_seg'}
    _assert_same_tensors(child(inputs, samples, mode='loss'), expected)

    for model in (parent, child):
        model.eval()
    with torch.no_grad():
        assert torch.equal(child(inputs, mode='tensor'),
                           parent(inputs, mode='tensor'))
        got = child.predict(inputs, copy.deepcopy(samples))
        want = parent.predict(inputs, copy.deepcopy(samples))
    for g, w in zip(got, want, strict=True):
        assert g.pred_sem_seg.data.shape == (1, SIZE, SIZE)
        assert torch.equal(g.seg_logits.data, w.seg_logits.data)
        assert torch.equal(g.pred_sem_seg.data, w.pred_sem_seg.data)
    with pytest.raises(RuntimeError, match='Invalid mode'):
        child(inputs, mode='unknown')

    _same_sgd_step(parent, child, _seg_data)
