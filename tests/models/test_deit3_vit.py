"""DeiT3ViT: DeiT III settings on mmpretrain's DeiT3, same state dict."""
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint
from mmpretrain.models.backbones import DeiT3
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401
from mmvitreg.models.backbones import DeiT3ViT

TINY = dict(embed_dims=16, num_layers=4, num_heads=2, feedforward_channels=32)
# DeiT-S24 / B24 depth with a tiny width, to stay fast.
DEEP = dict(embed_dims=16, num_layers=24, num_heads=2, feedforward_channels=32)


def _drop_probs(backbone):
    """(attention, FFN) DropPath rates of every block, as built."""
    return [(float(layer.attn.out_drop.drop_prob),
             float(layer.ffn.dropout_layer.drop_prob))
            for layer in backbone.layers]


def _gammas(backbone):
    return [
        p for name, p in backbone.named_parameters()
        if name.endswith(('gamma1.weight', 'gamma2.weight'))
    ]


def test_constant_drop_path_same_rate_in_every_block():
    model = DeiT3ViT(arch=TINY, img_size=16, patch_size=4, drop_path_rate=0.2)
    assert model.drop_path_mode == 'constant'
    assert _drop_probs(model) == [(0.2, 0.2)] * 4
    assert model.drop_path_rates == [0.2] * 4


def test_linear_mode_reproduces_mmpretrain_deit3():
    ours = DeiT3ViT(
        arch=TINY,
        img_size=16,
        patch_size=4,
        drop_path_rate=0.3,
        drop_path_mode='linear')
    ref = DeiT3(arch=TINY, img_size=16, patch_size=4, drop_path_rate=0.3)
    # linspace(0, 0.3, 4) = 0, 0.1, 0.2, 0.3
    expected = [0.0, 0.1, 0.2, 0.3]
    np.testing.assert_allclose([a for a, _ in _drop_probs(ref)], expected)
    np.testing.assert_allclose(
        np.array(_drop_probs(ours)), np.array(_drop_probs(ref)))


def test_drop_path_zero_and_layer_cfgs_override():
    model = DeiT3ViT(
        arch=TINY,
        img_size=16,
        patch_size=4,
        drop_path_rate=0.1,
        layer_cfgs=[{}, {}, {}, dict(drop_path_rate=0.5)])
    assert model.drop_path_rates == [0.1, 0.1, 0.1, 0.5]
    assert DeiT3ViT(
        arch=TINY, img_size=16, patch_size=4).drop_path_rates == [0.0] * 4


@pytest.mark.parametrize('value', [1e-4, 0.5])
def test_layer_scale_initialised_to_configured_value(value):
    model = MODELS.build(
        dict(
            type='DeiT3ViT',
            arch=TINY,
            img_size=16,
            patch_size=4,
            layer_scale_init_value=value))
    gammas = _gammas(model)
    assert len(gammas) == 2 * 4  # attention and FFN of each block
    for gamma in gammas:
        assert gamma.shape == (16, )
        assert torch.all(gamma == torch.tensor(value))
    # classifier-style init (TruncNormal Linear, Constant LN) leaves it alone
    model.init_weights()
    assert all(torch.all(g == torch.tensor(value)) for g in _gammas(model))


def test_default_layer_scale_is_1e_4_not_mmpretrains_1e_5():
    ours = DeiT3ViT(arch=TINY, img_size=16, patch_size=4)
    ref = DeiT3(arch=TINY, img_size=16, patch_size=4)
    assert float(_gammas(ours)[0][0]) == pytest.approx(1e-4)
    assert float(_gammas(ref)[0][0]) == pytest.approx(1e-5)


@pytest.mark.parametrize('arch', ['small', TINY, DEEP])
def test_state_dict_keys_identical_to_mmpretrain_deit3(arch):
    kwargs = dict(arch=arch, img_size=32, patch_size=16)
    with torch.device('meta') if arch == 'small' else torch.device('cpu'):
        ours, ref = DeiT3ViT(**kwargs), DeiT3(**kwargs)
    ours_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(ours_sd) == list(ref_sd)
    assert {k: v.shape for k, v in ours_sd.items()} == \
        {k: v.shape for k, v in ref_sd.items()}
    if arch == 'small':
        return
    # a checkpoint of one loads strictly into the other, both ways
    ref.load_state_dict(ours_sd, strict=True)
    ours.load_state_dict(ref_sd, strict=True)
    assert torch.equal(ours.layers[-1].ffn.gamma2.weight,
                       ref.layers[-1].ffn.gamma2.weight)


def test_without_layer_scale_matches_mmpretrain_without_layer_scale():
    ours = DeiT3ViT(
        arch=TINY, img_size=16, patch_size=4, layer_scale_init_value=0)
    ref = DeiT3(arch=TINY, img_size=16, patch_size=4, use_layer_scale=False)
    assert not _gammas(ours)
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_ffn_reads_ln2_and_is_mmpretrain_forward_otherwise():
    """mmpretrain 1.2.0's DeiT3 block feeds ``ln1(x)`` to the FFN and never
    uses ``ln2``; DeiT III (and DeiT3ViT) feeds ``ln2(x)``."""
    torch.manual_seed(0)
    ours = DeiT3ViT(
        arch=TINY, img_size=16, patch_size=4, layer_scale_init_value=0.5)
    ref = DeiT3(arch=TINY, img_size=16, patch_size=4)
    with torch.no_grad():
        for layer in ours.layers:  # make ln2 differ from ln1
            layer.ln2.weight.uniform_(0.5, 1.5)
            layer.ln2.bias.uniform_(-0.5, 0.5)
    ref.load_state_dict(ours.state_dict(), strict=True)
    ours.eval(), ref.eval()
    x = torch.rand(2, 3, 16, 16)

    out = ours(x)[0]
    out.sum().backward()
    assert ours.layers[0].ln2.weight.grad.abs().sum() > 0
    ref(x)[0].sum().backward()
    assert ref.layers[0].ln2.weight.grad is None  # unused in mmpretrain

    with torch.no_grad():
        assert not torch.allclose(out, ref(x)[0], atol=1e-4)
        for layer in ours.layers:  # ln2 := ln1: the only difference is gone
            layer.ln2.load_state_dict(layer.ln1.state_dict())
        torch.testing.assert_close(ours(x)[0], ref(x)[0])


def test_ffn_init_is_trunc_normal_from_init_cfg_not_xavier():
    """The released DeiT III initialises every Linear with trunc_normal
    (std 0.02); mmpretrain re-initialises FFN linears with Xavier uniform
    (std sqrt(2 / (16 + 32)) = 0.204 for 16 -> 32)."""
    init_cfg = [dict(type='TruncNormal', layer='Linear', std=.02)]
    arch = dict(TINY, embed_dims=64, feedforward_channels=128)
    torch.manual_seed(0)
    ours = DeiT3ViT(arch=arch, img_size=16, patch_size=4, init_cfg=init_cfg)
    ref = DeiT3(arch=arch, img_size=16, patch_size=4, init_cfg=init_cfg)
    ours.init_weights(), ref.init_weights()
    fc1 = ours.layers[0].ffn.layers[0][0].weight
    assert float(fc1.std()) == pytest.approx(0.02, rel=0.1)
    # Xavier uniform 64 -> 128: std = sqrt(2 / 192) = 0.102
    ref_fc1 = ref.layers[0].ffn.layers[0][0].weight
    assert float(ref_fc1.std()) == pytest.approx(0.102, rel=0.1)


@pytest.mark.parametrize(
    'kwargs,match',
    [(dict(drop_path_mode='stepwise'), 'drop_path_mode'),
     (dict(drop_path_rate=1.0), 'drop_path_rate'),
     (dict(use_layer_scale=True), 'layer_scale_init_value'),
     (dict(layer_scale_init_value=-1e-4), 'layer_scale_init_value'),
     (dict(layer_cfgs=[{}, {}]), 'layer_cfgs')])
def test_bad_arguments_name_the_key(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DeiT3ViT(arch=TINY, img_size=16, patch_size=4, **kwargs)


def _log_text(logger: MMLogger) -> str:
    for handler in logger.handlers:
        handler.flush()
    return open(logger.log_file).read()


def test_low_resolution_checkpoint_loads_with_resized_pos_embed(tmp_path):
    """24 px -> 32 px with patch 4 (6 x 6 -> 8 x 8 patches), the tiny
    counterpart of DeiT III's 192 -> 224 px fine-tune."""
    torch.manual_seed(0)
    low = DeiT3ViT(arch=TINY, img_size=24, patch_size=4)
    with torch.no_grad():
        low.pos_embed.normal_(std=0.02)
    ckpt = tmp_path / 'low_res.pth'
    torch.save({'state_dict': low.state_dict()}, ckpt)

    high = DeiT3ViT(arch=TINY, img_size=32, patch_size=4)
    logger = MMLogger.get_instance(
        'test_deit3_pos_embed_resize', log_file=str(tmp_path / 'load.log'))
    assert MMLogger.get_current_instance() is logger
    # strict: no missing or unexpected key, only pos_embed changes shape
    load_checkpoint(high, str(ckpt), strict=True)

    assert high.pos_embed.shape == (1, 64, 16)
    # DeiT III: no position embedding for the class token (0 extra tokens)
    expected = resize_pos_embed(
        low.pos_embed.detach(), (6, 6), (8, 8),
        mode='bicubic',
        num_extra_tokens=0)
    torch.testing.assert_close(high.pos_embed.detach(), expected)
    for name, tensor in low.state_dict().items():
        if name != 'pos_embed':
            assert torch.equal(high.state_dict()[name], tensor), name
    assert ('Resize the pos_embed shape from torch.Size([1, 36, 16]) to '
            'torch.Size([1, 64, 16])') in _log_text(logger)
    # the 32 px model runs on 32 px images
    assert high(torch.rand(1, 3, 32, 32))[0].shape == (1, 16)


def test_diverse_classifier_with_deit3_backbone_24_blocks():
    """DeiT III backbone in a DeiT-S24-shaped model with the patch
    diversification losses (one training step)."""
    model = MODELS.build(
        dict(
            type='DiverseImageClassifier',
            backbone=dict(
                type='DeiT3ViT',
                arch=DEEP,
                img_size=16,
                patch_size=4,
                drop_path_rate=0.1),
            neck=None,
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=5,
                in_channels=16,
                loss=dict(type='ThresholdedBCELoss')),
            data_preprocessor=dict(num_classes=5),
            cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
            contrastive_loss=dict(
                type='PatchContrastiveLoss', loss_weight=1.0)))
    torch.manual_seed(0)
    data = model.data_preprocessor(
        dict(
            inputs=torch.rand(4, 3, 16, 16) * 255,
            data_samples=[DataSample().set_gt_label(i) for i in range(4)]),
        True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'loss_cosine', 'loss_contrastive'}
    sum(losses.values()).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert unused == []


def test_featmap_outputs_for_dense_prediction():
    """As ``mmpretrain.DeiT3ViT`` in an mmseg config: multi-level patch
    feature maps without the class token."""
    model = MODELS.build(
        dict(
            type='DeiT3ViT',
            arch=TINY,
            img_size=32,
            patch_size=4,
            out_type='featmap',
            out_indices=(1, 3),
            final_norm=False))
    outs = model(torch.rand(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 8, 8)] * 2


def test_equals_the_released_deit3_architecture():
    """A timm DeiT III ViT (``no_embed_class=True``, LayerScale), every
    parameter random so a norm1 <-> norm2 mix-up shows, converted by
    ``mmvitreg.converters`` to mmpretrain DeiT3 keys, loads strictly into
    DeiT3ViT and gives timm's tokens exactly."""
    from timm.models.vision_transformer import VisionTransformer

    from mmvitreg.converters import convert_state_dict
    src = VisionTransformer(
        img_size=32,
        patch_size=4,
        embed_dim=16,
        depth=2,
        num_heads=2,
        no_embed_class=True,
        init_values=1e-4)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in src.parameters():
            param.copy_(0.3 * torch.randn(param.shape, generator=gen))
    model = DeiT3ViT(
        arch=dict(TINY, num_layers=2, feedforward_channels=64),
        img_size=32,
        patch_size=4,
        out_type='raw')
    model.load_state_dict(
        convert_state_dict(src.state_dict()).state_dict, strict=True)
    src.eval(), model.eval()
    x = torch.randn(2, 3, 32, 32, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], src.forward_features(x))
