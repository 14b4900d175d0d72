"""tools/convert_checkpoint.py end to end: file in, slim checkpoint out,
loaded by an mmseg ``EncoderDecoder`` through the checked ``Pretrained``
initialiser (``min_match=1.0``: any missing tensor raises)."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope

from .conftest import SWIN_ARCH, VIT_ARCH, timm_swin, timm_vit

TOOL = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                'convert_checkpoint.py')


def tool():
    spec = importlib.util.spec_from_file_location('convert_checkpoint', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def segmentor(backbone, checkpoint, in_channels):
    """mmseg EncoderDecoder whose backbone must load 100% of its tensors."""
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    backbone = dict(backbone,
                    init_cfg=dict(type='Pretrained',
                                  checkpoint=str(checkpoint),
                                  prefix='backbone.',
                                  min_match=1.0))
    model = MODELS.build(
        dict(type='EncoderDecoder',
             data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),
             backbone=backbone,
             decode_head=dict(type='FCNHead',
                              in_channels=in_channels,
                              channels=8,
                              num_convs=1,
                              num_classes=5,
                              in_index=0)))
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def vit_file(tmp_path_factory):
    src = timm_vit()
    path = tmp_path_factory.mktemp('src') / 'vit.pth'
    torch.save(src.state_dict(), path)
    return path, src


def test_vit_to_slim_checkpoint_and_mmseg(vit_file, tmp_path, capsys):
    path, src = vit_file
    dst = tmp_path / 'out' / 'vit_seg.pth'
    meta = tool().main([str(path), str(dst), '--img-size', '64'])
    assert f'{path}: format timm-vit (detected)' in capsys.readouterr().out
    saved = torch.load(dst, weights_only=True)  # slim: tensors + plain meta
    assert set(saved) == {'state_dict', 'meta'}
    assert saved['meta'] == meta
    assert meta['converted_from'] == str(path) and meta['type'] == 'timm-vit'
    assert all(k.startswith('backbone.') for k in saved['state_dict'])
    assert saved['state_dict']['backbone.pos_embed'].shape == (1, 257, 32)

    import mmvitreg  # noqa: F401  (checked Pretrained initialiser)
    seg = segmentor(
        dict(type='mmpretrain.VisionTransformer',
             arch=VIT_ARCH,
             img_size=64,
             patch_size=4,
             out_type='featmap',
             out_indices=(1, ),
             final_norm=False,
             norm_cfg=dict(type='LN', eps=1e-6)), dst, 32)
    loaded = seg.backbone.state_dict()
    for key, value in loaded.items():
        assert torch.equal(value, saved['state_dict']['backbone.' + key]), key
    assert torch.equal(loaded['layers.1.ffn.layers.1.weight'],
                       src.blocks[1].mlp.fc2.weight)


def test_swin_with_new_window_loads_into_mmseg(tmp_path, capsys):
    src_path = tmp_path / 'swin.pth'
    torch.save(timm_swin().state_dict(), src_path)
    dst = tmp_path / 'swin_w4.pth'
    meta = tool().main([str(src_path), str(dst), '--window-size', '4'])
    out = capsys.readouterr().out
    assert 'format timm-swin (detected) -> mmpretrain.SwinTransformer' in out
    assert 'resized to window 4' in out
    assert meta['arch']['window_size'] == 4
    # 64 px, patch 2: maps 32/16/8/4, all >= the window of 4. Only stage 3
    # is an output, so the only per-output norm is the converted norm3.
    seg = segmentor(
        dict(type='mmpretrain.SwinTransformer',
             arch=SWIN_ARCH,
             img_size=64,
             patch_size=2,
             window_size=4,
             out_indices=(3, )), dst, 128)
    with torch.no_grad():
        feats = seg.extract_feat(torch.zeros(1, 3, 64, 64))
    assert feats[0].shape == (1, 128, 4, 4)


def test_deit_release_detected(vit_file, tmp_path, capsys):
    path, src = vit_file
    release = tmp_path / 'deit.pth'
    torch.save({'model': src.state_dict()}, release)
    tool().main([str(release), str(tmp_path / 'o.pth'), '--prefix', ''])
    assert 'format deit (detected)' in capsys.readouterr().out
    saved = torch.load(tmp_path / 'o.pth', weights_only=True)
    assert 'pos_embed' in saved['state_dict']  # no prefix


def test_wrong_type_names_file_and_keys(tmp_path):
    path = tmp_path / 'swin.pth'
    torch.save(timm_swin().state_dict(), path)
    with pytest.raises(SystemExit) as info:
        tool().main([str(path), str(tmp_path / 'o.pth'), '--type', 'timm-vit'])
    msg = str(info.value.code)
    assert str(path) in msg and 'not a timm ViT' in msg
    assert 'Sample keys: patch_embed.proj.weight' in msg
    assert 'layers.0.blocks.0.' in msg
    assert not (tmp_path / 'o.pth').exists()


def test_unrelated_dict_is_unknown(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save(
        {
            'state_dict': {
                'conv1.weight': torch.zeros(2, 3, 1, 1),
                'fc.bias': torch.zeros(2)
            }
        }, path)
    with pytest.raises(SystemExit) as info:
        tool().main([str(path), str(tmp_path / 'o.pth')])
    msg = str(info.value.code)
    assert f'{path}: unknown checkpoint format' in msg
    assert 'conv1.weight, fc.bias' in msg
    empty = tmp_path / 'empty.pth'
    torch.save({'meta': {'epoch': 3}}, empty)
    with pytest.raises(SystemExit, match='empty.pth: no tensors found'):
        tool().main([str(empty), str(tmp_path / 'o.pth')])


def test_swin_all_outputs_miss_only_the_new_norms(tmp_path):
    """With out_indices=(0, 1, 2, 3) mmpretrain adds norm0..norm2, which no
    classification checkpoint has: they are the only missing tensors."""
    from mmvitreg.models.weight_init import PretrainedMismatchError
    src_path, dst = tmp_path / 'swin.pth', tmp_path / 'swin_mm.pth'
    torch.save(timm_swin().state_dict(), src_path)
    tool().main([str(src_path), str(dst)])
    with pytest.raises(PretrainedMismatchError) as info:
        segmentor(
            dict(type='mmpretrain.SwinTransformer',
                 arch=SWIN_ARCH,
                 img_size=64,
                 patch_size=2,
                 window_size=2,
                 out_indices=(0, 1, 2, 3)), dst, 16)
    msg = str(info.value)
    assert 'matched 127/133' in msg
    assert ('missing (6): norm0.weight, norm0.bias, norm1.weight, '
            'norm1.bias, norm2.weight, norm2.bias') in msg
    assert 'unexpected' not in msg and 'shape-mismatched' not in msg


def test_already_converted_and_pickled_objects_are_explained(
        vit_file, tmp_path):
    import argparse
    path, _ = vit_file
    converted = tmp_path / 'converted.pth'
    tool().main([str(path), str(converted)])
    with pytest.raises(SystemExit, match='already follow mmpretrain names'):
        tool().main([str(converted), str(tmp_path / 'again.pth')])
    # a DeiT training checkpoint pickles its argparse Namespace: refused
    # under safe loading, with the way out named
    training = tmp_path / 'deit_train.pth'
    torch.save({
        'model': torch.load(path),
        'args': argparse.Namespace()
    }, training)
    with pytest.raises(SystemExit) as info:
        tool().main([str(training), str(tmp_path / 'o.pth')])
    assert 'deit_train.pth' in str(info.value.code)
    assert 'argparse.Namespace' in str(info.value.code)
    meta = tool().main(
        [str(training),
         str(tmp_path / 'o.pth'), '--trust-checkpoint'])
    assert meta['type'] == 'deit'
    from mmvitreg.compat.checkpoint_loading import checkpoints_trusted
    assert not checkpoints_trusted()  # the opt-in did not outlive the call
