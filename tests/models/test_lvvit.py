"""LVViT backbone: released sizes, conv patch embedding, scaled residuals,
mmpretrain/mmseg output formats."""
import pytest
import torch
import torch.nn as nn
from mmpretrain.models.backbones.vision_transformer import (
    TransformerEncoderLayer,
)
from mmpretrain.registry import MODELS
from mmseg.registry import MODELS as SEG_MODELS

import mmvitreg  # noqa: F401  (before mmseg)
from mmvitreg.models.backbones import LVViT
from mmvitreg.models.backbones.lvvit import ScaledResidualLayer

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64,
            skip_lam=2.0, stem_channels=8)


def _count(module):
    return sum(p.numel() for p in module.parameters())


# Released README (zihangJiang/TokenLabeling): LV-ViT-S 25.77M at 224 (class
# head only), LV-ViT-M 55.83M at 224 and LV-ViT-L 150.47M at 448 (class head
# + auxiliary dense head), K = 1000. Hand count for S: 16 blocks x 1,478,016
# (qkv without bias 442,368 + proj 147,840 + fc1 443,520 + fc2 442,752 + 2 LN
# 1,536) = 23,648,256; patch embedding 1,656,768 (7x7/2 stem 9,408, two 3x3
# 36,864 each, 3 BN 384, 8x8 projection 1,573,248); pos 197 x 384 = 75,648;
# cls 384; final LN 768 -> backbone 25,381,824; + head 385,000 = 25,766,824.
@pytest.mark.parametrize('arch,img,heads,backbone_params,total', [
    ('s', 224, 1, 25_381_824, 25.77e6),
    ('m', 224, 2, 54_804_544, 55.83e6),
    ('l', 448, 2, 148_935_552, 150.47e6),
])
def test_released_sizes_on_meta_device(arch, img, heads, backbone_params,
                                       total):
    with torch.device('meta'):
        model = MODELS.build(dict(type='LVViT', arch=arch, img_size=img))
        model.eval()
        out = model(torch.empty(2, 3, img, img))
    settings = LVViT.arch_zoo[arch]
    dim = settings['embed_dims']
    assert _count(model) == backbone_params
    assert _count(model) + heads * (dim * 1000 + 1000) == pytest.approx(
        total, abs=0.006e6)
    assert len(model.layers) == settings['num_layers']
    assert all(layer.skip_lam == settings['skip_lam']
               for layer in model.layers)
    assert model.layers[0].attn.qkv.bias is None
    assert out[0].shape == (2, dim)
    assert model.patch_resolution == (img // 16, img // 16)


def test_conv_patch_embedding_layout():
    with torch.device('meta'):
        model = LVViT(arch='s')
    embed = model.patch_embed
    convs = [m for m in embed.stem if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [
        ((7, 7), (2, 2)), ((3, 3), (1, 1)), ((3, 3), (1, 1))]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in embed.stem) == 3
    assert embed.proj.kernel_size == (8, 8) and embed.proj.stride == (8, 8)
    assert model.layers[0].ln1.eps == 1e-5


def test_tiny_forward_and_out_types():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    cls = LVViT(arch=TINY, img_size=32, patch_size=4)
    assert cls(x)[0].shape == (2, 32)
    raw = LVViT(arch=TINY, img_size=32, patch_size=4, out_type='raw')
    assert raw(x)[0].shape == (2, 65, 32)
    featmap = LVViT(arch=TINY, img_size=32, patch_size=4, out_type='featmap',
                    out_indices=(0, 1), final_norm=False)
    outs = featmap(x)
    assert [o.shape for o in outs] == [(2, 32, 8, 8)] * 2
    # another input size: position embedding resized, grid follows
    assert featmap(torch.randn(1, 3, 48, 48))[-1].shape == (1, 32, 12, 12)
    outs[-1].sum().backward()
    assert featmap.patch_embed.stem[0].weight.grad is not None


def test_residual_branches_are_scaled():
    torch.manual_seed(0)
    cfg = dict(embed_dims=16, num_heads=2, feedforward_channels=32)
    plain = TransformerEncoderLayer(**cfg).eval()
    one = ScaledResidualLayer(**cfg, skip_lam=1.0).eval()
    two = ScaledResidualLayer(**cfg, skip_lam=2.0).eval()
    one.load_state_dict(plain.state_dict())
    two.load_state_dict(plain.state_dict())
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        assert torch.allclose(one(x), plain(x), atol=1e-6)
        y = x + plain.attn(plain.ln1(x)) / 2
        h = plain.ln2(y)
        expected = y + (plain.ffn(h) - h) / 2  # plain FFN adds identity h
        assert torch.allclose(two(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match='skip_lam'):
        ScaledResidualLayer(**cfg, skip_lam=0.)


def test_mmseg_builds_it_for_multilevel_neck():
    backbone = SEG_MODELS.build(dict(
        type='mmpretrain.LVViT', arch=TINY, img_size=32, patch_size=4,
        out_type='featmap', out_indices=(0, 1), final_norm=False))
    neck = SEG_MODELS.build(dict(type='MultiLevelNeck', in_channels=[32, 32],
                                 out_channels=16, scales=[2, 1]))
    outs = neck(backbone(torch.randn(1, 3, 32, 32)))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 16, 16),
                                               (1, 16, 8, 8)]


def test_checkpoint_round_trip_with_resized_position_embedding():
    small = LVViT(arch=TINY, img_size=32, patch_size=4)
    large = LVViT(arch=TINY, img_size=64, patch_size=4)
    large.load_state_dict(small.state_dict())
    assert large.pos_embed.shape == (1, 257, 32)


@pytest.mark.parametrize('kwargs,match', [
    (dict(arch='xl'), 'arch'),
    (dict(arch=TINY, out_indices=5), 'out index'),
    (dict(arch=TINY, patch_size=5), 'patch_size'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LVViT(**kwargs)


# mmpretrain's own ViT test: dynamic input sizes give a
# ceil(H / 16) x ceil(W / 16) grid (its PatchEmbed pads the bottom/right).
@pytest.mark.parametrize('size,padded,released', [
    ((256, 309), (16, 20), (16, 19)),
    ((250, 250), (16, 16), (15, 15)),
    ((224, 224), (14, 14), (14, 14)),
])
def test_grid_pads_like_mmpretrain_vit(size, padded, released):
    arch = dict(TINY, num_layers=1)
    with torch.device('meta'):
        x = torch.empty(1, 3, *size)
        vit = MODELS.build(dict(type='VisionTransformer', arch=arch,
                                out_type='featmap'))
        lvvit = LVViT(arch=arch, out_type='featmap')
        floor = LVViT(arch=arch, out_type='featmap',
                      patch_cfg=dict(padding=None))
        assert vit(x)[0].shape[2:] == padded
        assert lvvit(x)[0].shape[2:] == padded
        assert floor(x)[0].shape[2:] == released
    assert lvvit.patch_embed.out_size(size) == padded
    assert floor.patch_embed.out_size(size) == released


def test_padding_is_zeros_at_the_bottom_right():
    torch.manual_seed(0)
    model = LVViT(arch=TINY, img_size=32, patch_size=4, out_type='featmap',
                  final_norm=False)
    model.eval()  # BN statistics; mmpretrain's train() returns None
    x = torch.randn(1, 3, 30, 29)
    by_hand = torch.zeros(1, 3, 32, 32)
    by_hand[:, :, :30, :29] = x
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], model(by_hand)[0])
        # a multiple of the patch size is not padded: same tokens either way
        unpadded = LVViT(arch=TINY, img_size=32, patch_size=4,
                         out_type='featmap', final_norm=False,
                         patch_cfg=dict(padding=None))
        unpadded.eval()
        unpadded.load_state_dict(model.state_dict())
        assert torch.equal(unpadded(by_hand)[0], model(by_hand)[0])


def test_accepts_vision_transformer_arguments():
    model = LVViT(arch=TINY, img_size=32, patch_size=4, pre_norm=True,
                  layer_scale_init_value=1e-4,
                  layer_cfgs=[dict(skip_lam=1.0), dict(act_cfg=dict(
                      type='ReLU'))],
                  patch_cfg=dict(norm_cfg=dict(type='LN')))
    # pre_norm: a norm before the blocks, and no projection bias (CLIP)
    assert isinstance(model.pre_norm, nn.LayerNorm)
    assert model.patch_embed.proj.bias is None
    assert isinstance(model.patch_embed.norm, nn.LayerNorm)
    gamma = model.layers[0].attn.gamma1.weight
    torch.testing.assert_close(gamma, torch.full((32, ), 1e-4))
    assert [layer.skip_lam for layer in model.layers] == [1.0, 2.0]
    assert isinstance(model.layers[1].ffn.layers[0][1], nn.ReLU)
    assert isinstance(model.layers[0].ffn.layers[0][1], nn.GELU)
    assert model(torch.randn(1, 3, 32, 32))[0].shape == (1, 32)
    with pytest.raises(ValueError, match=r"patch_cfg keys \['kernel_size'\]"):
        LVViT(arch=TINY, patch_cfg=dict(kernel_size=8))
    with pytest.raises(ValueError, match='layer_cfgs'):
        LVViT(arch=TINY, layer_cfgs=[dict()])
    with pytest.raises(ValueError, match='padding'):
        LVViT(arch=TINY, patch_cfg=dict(padding='left'))
