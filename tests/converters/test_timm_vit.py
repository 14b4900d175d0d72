"""timm ViT / DeiT / DeiT III state dicts -> mmpretrain ViT backbones.

Each converted dict must fill every tensor of the matching mmpretrain
backbone and reproduce timm's tokens (final LayerNorm included) on the same
input.
"""
import pytest
import torch
from mmpretrain.models import (
    DeiT3,
    DistilledVisionTransformer,
    VisionTransformer,
)

from mmvitreg.converters import (
    CheckpointFormatError,
    convert_state_dict,
    convert_timm_vit,
)
from mmvitreg.models.weight_init.checked_pretrained import (
    load_state_dict_report,
)

from .conftest import VIT_ARCH, timm_vit

LN = dict(type='LN', eps=1e-6)  # timm's eps, as mmpretrain's DeiT configs


def mm_backbone(cls=VisionTransformer, **kwargs):
    """``cls`` shaped as the timm fixture (``VIT_ARCH`` on 32 px images,
    patch 4, timm's LayerNorm eps), returning every token (``raw``);
    ``kwargs`` add or override arguments."""
    args = dict(img_size=32, patch_size=4, norm_cfg=LN, out_type='raw')
    return cls(VIT_ARCH, **{**args, **kwargs})


def load_all(model, state_dict):
    """Load and assert every model tensor matched, nothing left over."""
    report = load_state_dict_report(model, state_dict)
    assert report.ratio == 1.0, report.summary()
    assert not report.unexpected, report.summary()
    model.eval()  # mmpretrain's train() returns None: no chaining
    return model


def mm_tokens(model, x):
    with torch.no_grad():
        return model(x)[0]


def timm_tokens(model, x):
    with torch.no_grad():
        return model.forward_features(x)


def test_timm_vit_loads_fully_and_matches(images):
    src = timm_vit()
    result = convert_state_dict(src.state_dict())
    assert result.format == 'timm-vit'
    assert result.target == 'mmpretrain.VisionTransformer'
    assert result.dropped == ['head.weight', 'head.bias']
    assert result.arch['embed_dims'] == 32 and result.arch['num_layers'] == 2
    model = load_all(mm_backbone(), result.state_dict)
    out = mm_tokens(model, images)
    assert out.shape == (2, 1 + 64, 32)
    torch.testing.assert_close(out, timm_tokens(src, images))


def test_deit_release_and_layer_scale_vit(images):
    # facebookresearch format: {'model': timm names}; a ViT with LayerScale
    # maps onto VisionTransformer(layer_scale_init_value > 0).
    src = timm_vit(init_values=1e-4)
    result = convert_state_dict({'model': src.state_dict()})
    assert result.format == 'deit'
    model = load_all(mm_backbone(layer_scale_init_value=1e-4),
                     result.state_dict)
    torch.testing.assert_close(mm_tokens(model, images),
                               timm_tokens(src, images))


def test_distilled_deit_keeps_dist_token(images):
    from timm.models.deit import VisionTransformerDistilled

    from .conftest import VIT, randomise
    src = randomise(VisionTransformerDistilled(**VIT))
    result = convert_state_dict({'model': src.state_dict()})
    assert result.target == 'mmpretrain.DistilledVisionTransformer'
    assert {'head.weight', 'head_dist.weight'} <= set(result.dropped)
    model = load_all(mm_backbone(DistilledVisionTransformer),
                     result.state_dict)
    out = mm_tokens(model, images)
    assert out.shape == (2, 2 + 64, 32)
    torch.testing.assert_close(out, timm_tokens(src, images))


def deit3_release(src):
    """A DeiT III release dict: ``{'model': ...}``, ``gamma_1/gamma_2``."""
    state = {
        k.replace('ls1.gamma', 'gamma_1').replace('ls2.gamma', 'gamma_2'): v
        for k, v in src.state_dict().items()
    }
    return {'model': state}


def test_deit3_fills_mmpretrain_deit3():
    src = timm_vit(no_embed_class=True, init_values=1e-4)
    assert src.pos_embed.shape == (1, 64, 32)  # no class-token entry
    for ckpt in (src.state_dict(), deit3_release(src)):
        result = convert_state_dict(ckpt)
        assert result.format == 'deit3' and result.target == 'mmpretrain.DeiT3'
        assert result.state_dict['pos_embed'].shape == (1, 64, 32)
        assert torch.equal(result.state_dict['layers.1.attn.gamma1.weight'],
                           src.blocks[1].ls1.gamma)
        assert torch.equal(result.state_dict['layers.0.ffn.gamma2.weight'],
                           src.blocks[0].ls2.gamma)
        load_all(DeiT3(VIT_ARCH, img_size=32, patch_size=4, norm_cfg=LN),
                 result.state_dict)
    assert any('ln2' in note for note in result.notes)  # the warning


def test_deit3_outputs_equal_up_to_mmpretrain_ln2_bug(images):
    """mmpretrain 1.2.0's DeiT3 layer feeds ``ln1(x)`` to the FFN (its
    ``ln2`` is unused): the converted model equals timm exactly once each
    block's norm2 equals its norm1, and differs otherwise."""
    src = timm_vit(no_embed_class=True, init_values=1e-4)
    model = mm_backbone(DeiT3)
    load_all(model, convert_state_dict(src.state_dict()).state_dict)
    assert not torch.allclose(
        mm_tokens(model, images), timm_tokens(src, images), atol=1e-2)
    for block in src.blocks:
        block.norm2.load_state_dict(block.norm1.state_dict())
    load_all(model, convert_state_dict(src.state_dict()).state_dict)
    torch.testing.assert_close(mm_tokens(model, images),
                               timm_tokens(src, images))


def test_deit3_as_vision_transformer_is_exact(images):
    src = timm_vit(no_embed_class=True, init_values=1e-4)
    result = convert_state_dict(deit3_release(src), deit3_target='vit')
    assert result.target == 'mmpretrain.VisionTransformer'
    pos = result.state_dict['pos_embed']
    assert pos.shape == (1, 1 + 64, 32)
    assert torch.equal(pos[:, 0], torch.zeros(1, 32))  # cls gets no position
    assert torch.equal(pos[:, 1:], src.pos_embed)
    model = load_all(mm_backbone(layer_scale_init_value=1e-4),
                     result.state_dict)
    torch.testing.assert_close(mm_tokens(model, images),
                               timm_tokens(src, images))


def test_layout_must_match_the_given_type():
    vit = timm_vit().state_dict()
    deit3 = timm_vit(no_embed_class=True).state_dict()
    with pytest.raises(CheckpointFormatError,
                       match=r'deit3\.pth.*DeiT III layout: use --type deit3'):
        convert_timm_vit(deit3, 'timm-vit', source='deit3.pth')
    with pytest.raises(CheckpointFormatError,
                       match=r'vit\.pth.*includes the class token'):
        convert_timm_vit(vit, 'deit3', source='vit.pth')


def test_unsupported_variants_are_refused_by_key():
    qk_norm = timm_vit(qk_norm=True).state_dict()
    with pytest.raises(CheckpointFormatError) as info:
        convert_state_dict(qk_norm, source='qk.pth')
    assert 'qk.pth' in str(info.value)
    assert 'blocks.0.attn.q_norm.weight' in str(info.value)
    registers = timm_vit(reg_tokens=4).state_dict()
    with pytest.raises(CheckpointFormatError, match='reg_token'):
        convert_state_dict(registers, source='reg.pth')


def test_patch_and_image_size_change():
    src = timm_vit()
    result = convert_state_dict(src.state_dict(),
                                img_size=(32, 48),
                                patch_size=2)
    assert result.state_dict['patch_embed.projection.weight'].shape == (32, 3,
                                                                        2, 2)
    assert result.state_dict['pos_embed'].shape == (1, 1 + 16 * 24, 32)
    assert torch.equal(result.state_dict['pos_embed'][:, 0], src.pos_embed[:,
                                                                           0])
    assert result.arch['img_size'] == [32, 48]
    load_all(
        VisionTransformer(VIT_ARCH,
                          img_size=(32, 48),
                          patch_size=2,
                          norm_cfg=LN), result.state_dict)


def test_global_pool_vit_without_class_token(images):
    # class_token=False, global_pool='avg': no extra tokens, fc_norm after
    # the token mean -> VisionTransformer(with_cls_token=False) + ln2
    src = timm_vit(class_token=False, global_pool='avg')
    result = convert_state_dict(src.state_dict())
    assert result.format == 'timm-vit'
    assert 'ln2.weight' in result.state_dict
    assert 'ln1.weight' not in result.state_dict  # timm's norm is Identity
    model = load_all(
        mm_backbone(with_cls_token=False, final_norm=False,
                    out_type='avg_featmap'), result.state_dict)
    with torch.no_grad():
        out = model(images)[0]
    torch.testing.assert_close(
        out, src.forward_head(src.forward_features(images), pre_logits=True))
    with pytest.raises(CheckpointFormatError, match='needs a cls_token'):
        convert_state_dict(src.state_dict(), 'deit3', source='gap.pth')
