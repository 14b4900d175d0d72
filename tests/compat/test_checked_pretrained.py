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
                      init_cfg=dict(type='Pretrained',
                                    checkpoint=str(checkpoint),
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


def test_new_block_must_be_declared(classifier_ckpt, tmp_path):
    path, cls = classifier_ckpt
    partial = {k: v for k, v in cls.state_dict().items()
               if not k.startswith('backbone.layers.1.')}
    partial_path = tmp_path / 'partial.pth'
    torch.save({'state_dict': partial}, partial_path)
    with pytest.raises(PretrainedMismatchError, match='shape|missing'):
        build_segmentor(partial_path, prefix='backbone.')
    # a lower min_match alone no longer accepts a missing block ...
    with pytest.raises(PretrainedMismatchError, match='layers.1.attn.qkv'):
        build_segmentor(partial_path, prefix='backbone.', min_match=0.5)
    # ... declaring it new does
    build_segmentor(partial_path, prefix='backbone.', min_match=0.5,
                    new_keys=['layers.1.*'])


def save_without(cls, tmp_path, drop=(), reshape=()):
    state = {k: v for k, v in cls.state_dict().items() if k not in drop}
    for key in reshape:
        state[key] = torch.zeros(*state[key].shape[:-1], 1)
    out = tmp_path / 'edited.pth'
    torch.save({'state_dict': state}, out)
    return out


@pytest.mark.parametrize('key', ['backbone.layers.1.attn.qkv.weight',
                                 'backbone.patch_embed.projection.bias'])
def test_one_missing_block_tensor_fails(classifier_ckpt, tmp_path, key):
    path, cls = classifier_ckpt
    # 27 of 28 backbone tensors match: above min_match, still an error
    edited = save_without(cls, tmp_path, drop=[key])
    with pytest.raises(PretrainedMismatchError) as info:
        build_segmentor(edited, prefix='backbone.')
    msg = str(info.value)
    assert 'matched 27/28' in msg and key[len('backbone.'):] in msg
    assert str(edited) in msg and 'new_keys' in msg


def test_one_mismatched_block_tensor_fails(classifier_ckpt, tmp_path):
    _, cls = classifier_ckpt
    key = 'backbone.layers.0.ffn.layers.1.weight'
    edited = save_without(cls, tmp_path, reshape=[key])
    with pytest.raises(PretrainedMismatchError,
                       match=r'layers\.0\.ffn\.layers\.1\.weight'):
        build_segmentor(edited, prefix='backbone.')


def test_missing_non_block_tensor_follows_min_match(classifier_ckpt,
                                                    tmp_path):
    _, cls = classifier_ckpt
    edited = save_without(cls, tmp_path, drop=['backbone.cls_token'])
    seg = build_segmentor(edited, prefix='backbone.')
    src = cls.backbone.state_dict()['layers.0.attn.qkv.weight']
    assert torch.equal(seg.backbone.state_dict()['layers.0.attn.qkv.weight'],
                       src)
