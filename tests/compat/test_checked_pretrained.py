"""`init_cfg=dict(type='Pretrained')` counts matched keys and fails loudly."""
import pytest
import torch
from mmengine.registry import init_default_scope

import mmvitreg  # noqa: F401
from mmvitreg.models.weight_init import PretrainedMismatchError

ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


@pytest.fixture(scope='module')
def classifier_ckpt(tmp_path_factory):
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='mmpretrain.VisionTransformer', arch=ARCH,
                      img_size=32, patch_size=4),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=10,
                  in_channels=32)))
    path = tmp_path_factory.mktemp('ckpt') / 'cls.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path, model


def build_segmentor(checkpoint, **init_kwargs):
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),
        backbone=dict(type='mmpretrain.VisionTransformer', arch=ARCH,
                      img_size=64, patch_size=4, out_type='featmap',
                      out_indices=(1, ), final_norm=False,
                      init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint),
                                    **init_kwargs)),
        decode_head=dict(type='FCNHead', in_channels=32, channels=8,
                         num_convs=1, num_classes=11, in_index=0)))
    model.init_weights()
    return model


def test_prefix_load_matches_everything_and_resizes_pos_embed(classifier_ckpt):
    path, cls = classifier_ckpt
    seg = build_segmentor(path, prefix='backbone.')
    src, dst = cls.backbone.state_dict(), seg.backbone.state_dict()
    assert src['pos_embed'].shape[1] == 1 + 8 * 8
    assert dst['pos_embed'].shape[1] == 1 + 16 * 16  # interpolated on load
    for key, value in dst.items():
        if key != 'pos_embed':
            assert torch.equal(value, src[key]), key


def test_wrong_format_fails_with_summary(classifier_ckpt):
    path, _ = classifier_ckpt
    with pytest.raises(PretrainedMismatchError) as info:
        build_segmentor(path)  # forgot prefix='backbone.'
    msg = str(info.value)
    assert str(path) in msg
    assert 'matched 0/' in msg
    assert 'missing' in msg and 'cls_token' in msg
    assert 'unexpected' in msg and 'backbone.cls_token' in msg


def test_min_match_can_be_lowered_deliberately(classifier_ckpt, tmp_path):
    path, cls = classifier_ckpt
    partial = {k: v for k, v in cls.state_dict().items()
               if not k.startswith('backbone.layers.1.')}
    partial_path = tmp_path / 'partial.pth'
    torch.save({'state_dict': partial}, partial_path)
    with pytest.raises(PretrainedMismatchError, match='shape|missing'):
        build_segmentor(partial_path, prefix='backbone.')
    build_segmentor(partial_path, prefix='backbone.', min_match=0.5)
