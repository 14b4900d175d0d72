"""mmpretrain ViT / DeiT III / Swin backbones -> timm: the exported dict
loads strictly into the timm model and timm computes the same features
(expected values from timm itself, on random weights)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmpretrain.models import SwinTransformer, VisionTransformer

from mmvitreg.converters import (
    CheckpointFormatError,
    convert_state_dict,
    to_timm,
)
from mmvitreg.converters.timm_swin import merging_reduction_to_unfold
from mmvitreg.converters.to_timm import unfold_to_merging_reduction
from mmvitreg.models.backbones.deit3_vit import DeiT3ViT

from .conftest import (
    SWIN,
    SWIN_ARCH,
    VIT,
    VIT_ARCH,
    randomise,
    timm_swin,
    timm_vit,
)

LN = dict(type='LN', eps=1e-6)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def timm_model(kind, **kwargs):
    """A fresh timm model (its own random init, replaced by the load)."""
    if kind == 'swin':
        from timm.models.swin_transformer import SwinTransformer as TSwin
        return TSwin(**{**SWIN, **kwargs}, num_classes=0).eval()
    from timm.models.vision_transformer import VisionTransformer as TViT
    return TViT(**{**VIT, **kwargs}, num_classes=0).eval()


def rand(model):
    """Random N(0, 0.3^2) weights (conftest's ``randomise``), eval mode;
    mmpretrain's ``eval()`` returns None, hence no chaining."""
    randomise(model)
    model.eval()
    return model


def load_strict(model, state_dict):
    missing, unexpected = model.load_state_dict(state_dict, strict=True)
    assert not missing and not unexpected
    return model


def test_vit_exports_to_timm_features(images):
    mm = rand(VisionTransformer(VIT_ARCH, img_size=32, patch_size=4,
                                     norm_cfg=LN, out_type='raw'))
    out, layout, dropped = to_timm(mm.state_dict())
    assert layout == 'vit' and dropped == []
    timm = load_strict(timm_model('vit'), out)
    with torch.no_grad():
        torch.testing.assert_close(timm.forward_features(images),
                                   mm(images)[0])


def test_deit3_exports_to_timm_no_embed_class(images):
    arch = dict(VIT_ARCH)
    mm = rand(DeiT3ViT(arch, img_size=32, patch_size=4, norm_cfg=LN,
                            out_type='raw'))
    out, layout, _ = to_timm(mm.state_dict())
    assert layout == 'deit3'
    assert out['pos_embed'].shape == (1, 64, 32)  # patches only
    timm = load_strict(timm_model('vit', no_embed_class=True,
                                  init_values=1e-4), out)
    with torch.no_grad():
        torch.testing.assert_close(timm.forward_features(images),
                                   mm(images)[0])


def test_swin_exports_to_timm_features(images):
    mm = rand(SwinTransformer(arch=SWIN_ARCH, img_size=32, patch_size=2,
                                   window_size=2))
    out, layout, dropped = to_timm(mm.state_dict())
    assert layout == 'swin'
    assert len(dropped) == 8  # the rebuilt relative_position_index buffers
    timm = load_strict(timm_model('swin'), out)
    with torch.no_grad():
        ref = timm.forward_features(images).permute(0, 3, 1, 2)
        torch.testing.assert_close(mm(images)[-1], ref)


def test_round_trip_gives_timm_back():
    for src in (timm_vit(), timm_swin()):
        state = {k: v for k, v in src.state_dict().items()
                 if not k.startswith('head')}
        back, _, _ = to_timm(convert_state_dict(src.state_dict()).state_dict)
        assert back.keys() == state.keys()
        for key, value in state.items():
            assert torch.equal(back[key], value), key


def test_merging_permutation_is_inverted():
    weight = torch.arange(16.).reshape(2, 8)
    assert torch.equal(
        unfold_to_merging_reduction(merging_reduction_to_unfold(weight)),
        weight)


def test_seg_backbone_norms_dropped_and_unknown_keys_named():
    mm = SwinTransformer(arch=SWIN_ARCH, img_size=32, patch_size=2,
                         window_size=2, out_indices=(0, 1, 2, 3))
    out, _, dropped = to_timm(mm.state_dict())
    assert {'norm0.weight', 'norm1.bias', 'norm2.weight'} <= set(dropped)
    assert 'norm.weight' in out
    state = VisionTransformer(VIT_ARCH, img_size=32, patch_size=4).state_dict()
    state['layers.0.extra.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointFormatError, match='layers.0.extra.weight'):
        to_timm(state)


def _trained_checkpoint(path, backbone_state, nan_key=None):
    """A checkpoint shaped like tools/train.py's: state_dict with
    backbone./head. keys, optimizer and meta."""
    state = {'backbone.' + k: v.clone() for k, v in backbone_state.items()}
    state['head.layers.head.weight'] = torch.zeros(10, 32)
    if nan_key:
        state[nan_key][0] = float('nan')
    torch.save({'state_dict': state, 'optimizer': {'state': {}},
                'meta': {'epoch': 1}}, path)


def run_export(*args):
    return subprocess.run([sys.executable, 'tools/export_backbone.py', *args],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_tool_exports_pth_and_safetensors(tmp_path, images):
    mm = rand(VisionTransformer(VIT_ARCH, img_size=32, patch_size=4,
                                     norm_cfg=LN, out_type='raw'))
    ckpt = str(tmp_path / 'epoch_1.pth')
    _trained_checkpoint(ckpt, mm.state_dict())
    out = run_export(ckpt, str(tmp_path / 'vit.pth'))
    assert out.returncode == 0, out.stderr
    assert '"depth": 2' in out.stdout
    exported = torch.load(str(tmp_path / 'vit.pth'), weights_only=True)
    timm = load_strict(timm_model('vit'), exported)
    out = run_export(ckpt, str(tmp_path / 'vit.safetensors'), '--to',
                     'safetensors')
    assert out.returncode == 0, out.stderr
    from safetensors.torch import load_file
    load_strict(timm_model('vit'),
                load_file(str(tmp_path / 'vit.safetensors')))
    with torch.no_grad():
        torch.testing.assert_close(timm.forward_features(images),
                                   mm(images)[0])


def test_tool_refuses_nan_naming_the_tensor(tmp_path):
    mm = VisionTransformer(VIT_ARCH, img_size=32, patch_size=4)
    ckpt = str(tmp_path / 'diverged.pth')
    _trained_checkpoint(ckpt, mm.state_dict(),
                        nan_key='backbone.layers.1.attn.qkv.weight')
    out = run_export(ckpt, str(tmp_path / 'x.pth'))
    assert out.returncode != 0
    assert 'backbone.layers.1.attn.qkv.weight' in out.stderr
    assert not (tmp_path / 'x.pth').exists()
