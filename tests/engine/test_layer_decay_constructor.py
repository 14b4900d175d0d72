"""BackboneLayerDecayOptimWrapperConstructor on real mmseg segmentors.

Models come from mmseg's registry (``EncoderDecoder`` around mmpretrain's
``VisionTransformer``), optimizers from mmengine's ``build_optim_wrapper``
in the ``mmseg`` scope, as the Runner builds them. Expected learning rates
are written out by hand: with L blocks and rate r, depth 0 (patch
embedding, cls_token, pos_embed) trains at ``lr * r ** (L + 1)``, block i at
``lr * r ** (L - i)``, neck and heads at ``lr``.
"""
import contextlib
import glob
import io
import os.path as osp

import pytest
import torch
from meta_params import params_on_meta
from mmengine.config import Config
from mmengine.optim import LinearLR, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

import mmvitreg  # noqa: F401  (compat layer, registration)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NAME = 'BackboneLayerDecayOptimWrapperConstructor'
BEIT_WD = dict(
    flat_decay_mult=0.,
    custom_keys={'.pos_embed': dict(decay_mult=0.),
                 '.cls_token': dict(decay_mult=0.)})
C = 16


def tiny_segmentor(backbone=None):
    """3-block width-16 ViT -> MultiLevelNeck -> UPerHead + FCN aux head."""
    init_default_scope('mmseg')
    backbone = backbone or dict(
        type='mmpretrain.VisionTransformer',
        arch=dict(embed_dims=C, num_layers=3, num_heads=2,
                  feedforward_channels=2 * C),
        img_size=32, patch_size=8, out_indices=(0, 1, 2),
        out_type='featmap', final_norm=False)
    head = dict(norm_cfg=dict(type='BN'), num_classes=3,
                loss_decode=dict(type='CrossEntropyLoss'))
    return MODELS.build(dict(
        type='EncoderDecoder',
        backbone=backbone,
        neck=dict(type='MultiLevelNeck', in_channels=[C] * 3,
                  out_channels=C, scales=[2, 1, 0.5]),
        decode_head=dict(type='UPerHead', in_channels=[C] * 3,
                         in_index=[0, 1, 2], pool_scales=(1, 2), channels=8,
                         **head),
        auxiliary_head=dict(type='FCNHead', in_channels=C, in_index=2,
                            channels=8, num_convs=1, **head)))


def layer_decay_wrapper(model, lr=0.1, rate=0.5, weight_decay=0.05,
                        **paramwise):
    paramwise = dict(BEIT_WD, layer_decay_rate=rate, **paramwise)
    init_default_scope('mmseg')
    return build_optim_wrapper(model, dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=lr, weight_decay=weight_decay),
        constructor=NAME,
        paramwise_cfg=paramwise))


def groups_by_name(model, optim_wrapper):
    """``name -> param group``; fails on a parameter in 0 or >1 groups."""
    group_of = {}
    for group in optim_wrapper.optimizer.param_groups:
        for p in group['params']:
            assert id(p) not in group_of, 'parameter in two groups'
            group_of[id(p)] = group
    named = dict(model.named_parameters())
    assert len(group_of) == len(named)
    return {n: group_of[id(p)] for n, p in named.items()}


def test_tiny_vit_lrs_and_weight_decay_by_hand():
    model = tiny_segmentor()
    groups = groups_by_name(model, layer_decay_wrapper(model))
    # L = 3, r = 0.5, lr = 0.1
    expected_lr = {'backbone.cls_token': 0.00625,
                   'backbone.pos_embed': 0.00625,
                   'backbone.patch_embed.projection.weight': 0.00625,
                   'backbone.patch_embed.projection.bias': 0.00625}
    for name in groups:
        for prefix, lr in (('backbone.layers.0.', 0.0125),
                           ('backbone.layers.1.', 0.025),
                           ('backbone.layers.2.', 0.05),
                           ('neck.', 0.1), ('decode_head.', 0.1),
                           ('auxiliary_head.', 0.1)):
            if name.startswith(prefix):
                expected_lr[name] = lr
    assert set(expected_lr) == set(groups)  # no parameter left unplaced
    assert {n: g['lr'] for n, g in groups.items()} == \
        pytest.approx(expected_lr, rel=1e-12)

    no_decay = {n for n, g in groups.items() if g['weight_decay'] == 0}
    assert no_decay == {n for n, p in model.named_parameters()
                        if p.ndim == 1} | {'backbone.cls_token',
                                           'backbone.pos_embed'}
    assert {'backbone.layers.0.ln1.weight', 'backbone.layers.2.attn.qkv.bias',
            'decode_head.conv_seg.bias',
            'decode_head.bottleneck.bn.weight'} <= no_decay
    assert all(g['weight_decay'] == 0.05 for n, g in groups.items()
               if n not in no_decay)
    assert groups['backbone.patch_embed.projection.weight'][
        'weight_decay'] == 0.05


def test_frozen_parameters_get_no_group():
    model = tiny_segmentor()
    model.backbone.layers[0].requires_grad_(False)
    params = layer_decay_wrapper(model).optimizer.param_groups
    names = {g['param_name'] for g in params}
    assert not any(n.startswith('backbone.layers.0.') for n in names)
    assert len(names) == sum(p.requires_grad for p in model.parameters())


def test_schedulers_keep_the_depth_ratios():
    """A warm-up scales every group by the same factor."""
    model = tiny_segmentor()
    wrapper = layer_decay_wrapper(model)
    before = [g['lr'] for g in wrapper.optimizer.param_groups]
    scheduler = LinearLR(wrapper, start_factor=0.1, end=10, by_epoch=False)
    scheduler.step()
    after = [g['lr'] for g in wrapper.optimizer.param_groups]
    # mmengine's LinearLR reaches end_factor at iteration end - 1 = 9:
    # 0.1 + 0.9 * 1 / 9 = 0.2 after one step, for every group alike
    assert after == pytest.approx([0.2 * lr for lr in before], rel=1e-9)


def test_optimizer_state_round_trips_under_weights_only():
    """The extra group keys (param_name, layer_id, lr_scale) are plain
    str/int/float: checkpoints stay loadable with ``weights_only=True``."""
    torch.manual_seed(0)
    model = tiny_segmentor()
    wrapper = layer_decay_wrapper(model)
    model.train()
    model(torch.randn(2, 3, 32, 32), mode='tensor').sum().backward()
    wrapper.step()
    buf = io.BytesIO()
    torch.save(wrapper.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    fresh = layer_decay_wrapper(model)
    fresh.load_state_dict(state)
    assert [g['lr'] for g in fresh.optimizer.param_groups] == \
        [g['lr'] for g in wrapper.optimizer.param_groups]
    assert state['param_groups'][0]['param_name'] == 'backbone.cls_token'
    assert torch.equal(fresh.optimizer.state_dict()['state'][0]['exp_avg'],
                       wrapper.optimizer.state_dict()['state'][0]['exp_avg'])


def test_backbone_without_get_layer_depth_is_refused():
    # mmseg's own ViT defines no get_layer_depth
    model = tiny_segmentor(backbone=dict(
        type='VisionTransformer', img_size=(32, 32), patch_size=8,
        embed_dims=C, num_layers=3, num_heads=2, mlp_ratio=2,
        out_indices=(0, 1, 2)))
    with pytest.raises(NotImplementedError,
                       match=r'model\.backbone \(mmseg\.models\.backbones\.'
                       r'vit\.VisionTransformer\) has no get_layer_depth'):
        layer_decay_wrapper(model)


def test_model_without_backbone_is_refused():
    with pytest.raises(NotImplementedError, match='has no `backbone`'):
        layer_decay_wrapper(nn.Sequential(nn.Linear(2, 2)))


@pytest.mark.parametrize('paramwise, match', [
    (dict(), 'layer_decay_rate must be a number in'),
    (dict(layer_decay_rate=1.5), 'layer_decay_rate must be a number in'),
    (dict(layer_decay_rate=0.9, num_layers=12),
     r'num_layers \(the depth comes from model\.backbone'),
    (dict(decay_rate=0.9), "decay_rate \\(spell it 'layer_decay_rate'\\)"),
    (dict(layer_decay_rate=0.9, bias_lr_mult=2.), 'bias_lr_mult'),
    (dict(layer_decay_rate=0.9,
          custom_keys={'head': dict(lr_mult=10.)}),
     r"custom_keys\['head'\]\.lr_mult would be ignored"),
])
def test_paramwise_cfg_keys_that_would_be_ignored(paramwise, match):
    from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match=match) as err:
        OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
            type=NAME,
            optim_wrapper_cfg=dict(
                type='OptimWrapper',
                optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
            paramwise_cfg=paramwise))
    assert 'optim_wrapper.paramwise_cfg' in str(err.value)


# ---------------------------------------------------------------- configs
#: ViT-family configs: (AdamW lr, layer_decay_rate, blocks) as stated in
#: each config's comment (mmseg's BEiT-L values at 24 blocks, BEiT-B's
#: otherwise).
LAYER_DECAY = {
    'upernet_deit_s24_ade20k': (2e-5, 0.95, 24),
    'upernet_deit_s24_diverse_ade20k': (2e-5, 0.95, 24),
    'upernet_deit_b24_ade20k': (2e-5, 0.95, 24),
    'upernet_deit_b24_diverse_ade20k': (2e-5, 0.95, 24),
    'upernet_deit_b24_cityscapes': (2e-5, 0.95, 24),
    'upernet_deit3_b_ade20k': (3e-5, 0.9, 12),
}
#: Swin configs keep mmseg's Swin recipe: plain AdamW 6e-5; LV-ViT-S
#: follows its released UperNet config (plain AdamW 6e-5 as well).
PLAIN = ('upernet_swin_b_ade20k', 'upernet_swin_l_ade20k',
         'upernet_swin_l_ade20k_stage2', 'upernet_swin_l_cityscapes',
         'upernet_lvvit_s_ade20k')


def build_from_config(path, meta):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    ctx = params_on_meta() if meta else contextlib.nullcontext()
    with ctx:
        model = MODELS.build(cfg.model)
    return cfg, model, build_optim_wrapper(model, cfg.optim_wrapper)


def test_every_seg_config_is_listed():
    names = {osp.basename(p)[:-3]
             for p in glob.glob(osp.join(ROOT, 'configs', 'seg', '*.py'))}
    assert names == set(LAYER_DECAY) | set(PLAIN)


@pytest.mark.parametrize('name', sorted(LAYER_DECAY))
def test_vit_seg_config_optim_wrapper(name):
    lr, rate, blocks = LAYER_DECAY[name]
    cfg, model, wrapper = build_from_config(
        osp.join(ROOT, 'configs', 'seg', f'{name}.py'), meta=True)
    assert cfg.optim_wrapper.constructor == NAME
    assert model.backbone.num_layers == blocks
    groups = groups_by_name(model, wrapper)
    for n, g in groups.items():
        if n in ('backbone.cls_token', 'backbone.pos_embed') or \
                n.startswith('backbone.patch_embed.'):
            depth = 0
        elif n.startswith('backbone.layers.'):
            depth = int(n.split('.')[2]) + 1
        else:
            # nothing of the backbone sits above its last block
            assert not n.startswith('backbone.'), n
            depth = blocks + 1
        assert g['lr'] == pytest.approx(lr * rate**(blocks + 1 - depth),
                                        rel=1e-12), n
        zero_wd = g['params'][0].ndim <= 1 or n in ('backbone.cls_token',
                                                    'backbone.pos_embed')
        assert g['weight_decay'] == (0. if zero_wd else 0.05), n
    # the stated patch-embedding scale (0.28 / 0.17 / 0.25 lr)
    stem = groups['backbone.pos_embed']['lr'] / lr
    assert stem == pytest.approx(
        {0.95: 0.277, 0.9: 0.167 if blocks == 16 else 0.254}[rate], abs=1e-3)


@pytest.mark.parametrize('name', PLAIN)
def test_swin_seg_config_keeps_plain_adamw(name):
    cfg, model, wrapper = build_from_config(
        osp.join(ROOT, 'configs', 'seg', f'{name}.py'), meta=True)
    assert 'constructor' not in cfg.optim_wrapper
    groups = groups_by_name(model, wrapper)
    assert {g['lr'] for g in groups.values()} == {6e-5}


def test_layer_decay_bases_share_the_optimiser():
    base = osp.join(ROOT, 'configs', '_base_', 'schedules')
    ade = Config.fromfile(osp.join(base, 'seg_ade20k_160k_layer_decay.py'))
    city = Config.fromfile(
        osp.join(base, 'seg_cityscapes_80k_layer_decay.py'))
    assert ade.optim_wrapper == city.optim_wrapper
    assert ade.optim_wrapper.paramwise_cfg == dict(BEIT_WD,
                                                   layer_decay_rate=0.9)
    assert city.train_cfg.max_iters == 80000


@pytest.mark.parametrize('name', ['upernet_vit_tiny_digits_ade20k',
                                  'upernet_vit_tiny_digits_cityscapes'])
def test_demo_train_step_moves_each_depth_by_its_lr(name):
    """First AdamW step: |dw| = lr_group * |g| / (|g| + eps) ~ lr_group
    (plus lr * wd * |w|, negligible here), so the median step of a tensor
    measures its group's lr."""
    torch.manual_seed(0)
    cfg, model, wrapper = build_from_config(
        osp.join(ROOT, 'configs', 'demo', f'{name}.py'), meta=False)
    lr, rate = cfg.optim_wrapper.optimizer.lr, 0.9
    assert lr == 2e-3  # the demo's base lr (heads); the decay is the point
    h, w = cfg.crop_size
    data = dict(
        inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[SegDataSample(gt_sem_seg=PixelData(
            data=torch.randint(0, 11, (1, h, w)))) for _ in range(2)])
    tracked = {
        'backbone.patch_embed.projection.weight': lr * rate**13,
        'backbone.layers.0.attn.qkv.weight': lr * rate**12,
        'backbone.layers.11.ffn.layers.1.weight': lr * rate,
        'decode_head.conv_seg.weight': lr,
    }
    params = dict(model.named_parameters())
    start = {n: params[n].detach().clone() for n in tracked}
    model.train()
    losses = model.train_step(data, wrapper)
    assert all(torch.isfinite(v) for k, v in losses.items() if 'loss' in k)
    for n, expected in tracked.items():
        step = (params[n].detach() - start[n]).abs().median().item()
        assert step == pytest.approx(expected, rel=0.02), n
