"""DiverseEncoderDecoder: mmseg's EncoderDecoder plus an optional patch
cosine loss on the backbone's last tokens (tiny ViT and Swin, BN, CPU)."""
import argparse
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict, DictAction
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from tool_runner import ADE_CONFIG, ROOT, data_options

import mmvitreg  # noqa: F401  (compat layer before mmseg)
from mmvitreg.cli.runner import build_runner
from mmvitreg.models.losses import PatchCosineLoss
from mmvitreg.utils.config import load_config

NUM_CLASSES = 3
SIZE = 64
NORM = dict(type='BN', requires_grad=True)


def _vit(out_indices):
    # 3 blocks, 8 px patches: N = 8 x 8 = 64 last-layer patch tokens
    return dict(
        type='mmpretrain.VisionTransformer',
        arch=dict(embed_dims=32, num_layers=3, num_heads=2,
                  feedforward_channels=64),
        img_size=SIZE, patch_size=8, out_indices=out_indices,
        out_type='featmap', final_norm=False, with_cls_token=True,
        interpolate_mode='bicubic')


def _model_cfg(backbone='vit', out_indices=(1, 2), **kwargs):
    """Tiny UperNet (+ FCN aux head) as configs/_base_/models/upernet_*.py."""
    heads = dict(norm_cfg=NORM, num_classes=NUM_CLASSES, align_corners=False,
                 dropout_ratio=0.1)
    if backbone == 'vit':
        levels = len(out_indices)
        cfg = dict(
            backbone=_vit(out_indices),
            neck=dict(type='MultiLevelNeck', in_channels=[32] * levels,
                      out_channels=16, scales=[2, 1][-levels:]),
            decode_head=dict(type='UPerHead', in_channels=[16] * levels,
                             in_index=list(range(levels)), pool_scales=(1, 2),
                             channels=16, **heads),
            auxiliary_head=dict(type='FCNHead', in_channels=16,
                                in_index=levels - 1, channels=8,
                                num_convs=1, concat_input=False, **heads))
    else:
        # stages at strides 4..32: 16x16 .. 2x2, last stage N = 4 tokens
        cfg = dict(
            backbone=dict(
                type='mmpretrain.SwinTransformer',
                arch=dict(embed_dims=16, depths=[1, 1, 1, 1],
                          num_heads=[1, 1, 2, 2]),
                img_size=SIZE, patch_size=4, window_size=2,
                pad_small_map=True, out_indices=(0, 1, 2, 3),
                drop_path_rate=0.0, use_abs_pos_embed=False),
            decode_head=dict(type='UPerHead', in_channels=[16, 32, 64, 128],
                             in_index=[0, 1, 2, 3], pool_scales=(1, 2),
                             channels=16, **heads),
            auxiliary_head=dict(type='FCNHead', in_channels=64, in_index=2,
                                channels=8, num_convs=1,
                                concat_input=False, **heads))
    cfg.update(type='DiverseEncoderDecoder', train_cfg=dict(),
               test_cfg=dict(mode='whole'), **kwargs)
    return cfg


def _build(cfg):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    # ConfigDict as from a config file: EncoderDecoder reads test_cfg.mode
    return MODELS.build(ConfigDict(copy.deepcopy(cfg))).train()


def _batch(batch_size=2):
    gen = torch.Generator().manual_seed(1)
    inputs = torch.randn(batch_size, 3, SIZE, SIZE, generator=gen)
    samples = []
    for _ in range(batch_size):
        label = torch.randint(0, NUM_CLASSES, (1, SIZE, SIZE), generator=gen)
        label[:, :4] = 255  # some ignored pixels
        shape = (SIZE, SIZE)
        sample = SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape,
                                             pad_shape=shape))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return inputs, samples


def _losses(model, inputs, samples):
    torch.manual_seed(2)  # the heads' dropout draws the same masks
    return model.loss(inputs, samples)


def _hand_cosine(tokens):
    """Mean over images of the mean cos(h_i, h_j) over ordered pairs i != j,
    from the full N x N Gram matrix (not the O(NC) identity)."""
    unit = tokens / tokens.norm(dim=-1, keepdim=True)
    gram = unit @ unit.transpose(1, 2)  # (B, N, N)
    num = tokens.size(1)
    off_diagonal = gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(1)
    return (off_diagonal / (num * (num - 1))).mean()


def _hand_last_tokens(model, inputs):
    """h^[L] without hooks: ViT through its public pieces (last block
    output, cls dropped, no final norm); Swin: the last feature map (stage 3
    after norm3), flattened to (B, h*w, C)."""
    backbone = model.backbone
    if model.backbone.__class__.__name__ == 'SwinTransformer':
        return backbone(inputs)[-1].flatten(2).transpose(1, 2)
    tokens, grid = backbone.patch_embed(inputs)
    assert grid == (SIZE // 8, SIZE // 8)
    cls = backbone.cls_token.expand(inputs.size(0), -1, -1)
    h = torch.cat([cls, tokens], dim=1) + backbone.pos_embed
    for layer in backbone.layers:
        h = layer(h)
    return h[:, 1:]


CASES = [('vit', (1, 2)), ('vit', (0, 1)), ('swin', None)]
IDS = ['vit-last-block-out', 'vit-last-block-not-out', 'swin']


def _cfg(backbone, out_indices, **kwargs):
    if out_indices is None:
        return _model_cfg(backbone, **kwargs)
    return _model_cfg(backbone, out_indices, **kwargs)


@pytest.mark.parametrize('backbone,out_indices', CASES, ids=IDS)
def test_off_equals_encoder_decoder_bit_for_bit(backbone, out_indices):
    plain_cfg = _cfg(backbone, out_indices)
    plain_cfg['type'] = 'EncoderDecoder'
    plain = _build(plain_cfg)
    unset = _build(_cfg(backbone, out_indices))
    explicit = _build(_cfg(backbone, out_indices, diversity_loss=None))
    for model in (unset, explicit):
        assert model.diversity_loss is None
        assert list(model.state_dict()) == list(plain.state_dict())
        model.load_state_dict(plain.state_dict())
    inputs, samples = _batch()
    expected = _losses(plain, inputs, samples)
    assert set(expected) == {'decode.loss_ce', 'decode.acc_seg',
                             'aux.loss_ce', 'aux.acc_seg'}
    for model in (unset, explicit):
        got = _losses(model, inputs, samples)
        assert list(got) == list(expected)
        for key in expected:
            assert torch.equal(got[key], expected[key]), key


@pytest.mark.parametrize('backbone,out_indices', CASES, ids=IDS)
def test_on_adds_weighted_cosine_of_last_tokens(backbone, out_indices):
    weight = 0.3
    model = _build(_cfg(backbone, out_indices, diversity_loss=dict(
        type='PatchCosineLoss', loss_weight=weight)))
    plain_cfg = _cfg(backbone, out_indices)
    plain_cfg['type'] = 'EncoderDecoder'
    plain = _build(plain_cfg)
    plain.load_state_dict(model.state_dict())  # no extra parameters
    inputs, samples = _batch()

    losses = _losses(model, inputs, samples)
    expected = _losses(plain, inputs, samples)
    assert set(losses) == set(expected) | {'loss_cosine'}
    for key in expected:  # the seg losses are untouched
        assert torch.equal(losses[key], expected[key]), key

    model.zero_grad()
    losses['loss_cosine'].backward()
    hooked_grads = {n: p.grad.clone() for n, p in model.named_parameters()
                    if p.grad is not None}
    assert not any(m._forward_hooks or m._forward_pre_hooks
                   for m in model.backbone.modules())

    model.zero_grad()
    tokens = _hand_last_tokens(model, inputs)
    num_tokens = 64 if backbone == 'vit' else 4
    assert tokens.shape == (2, num_tokens, 32 if backbone == 'vit' else 128)
    hand = weight * _hand_cosine(tokens)
    torch.testing.assert_close(losses['loss_cosine'], hand,
                               rtol=1e-5, atol=1e-6)
    hand.backward()
    hand_grads = {n: p.grad for n, p in model.named_parameters()
                  if p.grad is not None}

    # gradients reach the backbone (first layer included) and only it
    assert set(hooked_grads) == set(hand_grads)
    assert all(n.startswith('backbone.') for n in hooked_grads)
    assert hooked_grads['backbone.patch_embed.projection.weight'].abs().sum() \
        > 0
    for name, grad in hand_grads.items():
        torch.testing.assert_close(hooked_grads[name], grad,
                                   rtol=1e-4, atol=1e-7, msg=name)


def test_on_is_encoder_decoder_at_inference():
    model = _build(_model_cfg(diversity_loss=dict(type='PatchCosineLoss')))
    plain_cfg = _model_cfg()
    plain_cfg['type'] = 'EncoderDecoder'
    plain = _build(plain_cfg)
    plain.load_state_dict(model.state_dict())
    inputs, samples = _batch()
    model.eval()
    plain.eval()
    with torch.no_grad():
        got = model.predict(inputs, copy.deepcopy(samples))
        want = plain.predict(inputs, copy.deepcopy(samples))
        assert torch.equal(model(inputs, mode='tensor'),
                           plain(inputs, mode='tensor'))
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a.seg_logits.data, b.seg_logits.data)


def test_loss_defaults_and_scopes():
    init_default_scope('mmseg')
    model = _build(_model_cfg(diversity_loss=dict()))
    assert isinstance(model.diversity_loss, PatchCosineLoss)
    assert model.diversity_loss.loss_weight == 0.1  # pretraining weight
    model = _build(_model_cfg(diversity_loss=dict(
        type='mmpretrain.PatchCosineLoss', loss_weight=0.5)))
    assert model.diversity_loss.loss_weight == 0.5
    model = _build(_model_cfg(diversity_loss=PatchCosineLoss(2.0)))
    assert model.diversity_loss.loss_weight == 2.0  # a module is used as is


def test_bad_diversity_loss_is_reported():
    with pytest.raises(TypeError, match='`diversity_loss` must be a dict'):
        _build(_model_cfg(diversity_loss=0.1))
    typo = "`diversity_loss` type 'PatchCosinLoss' is not a registered"
    with pytest.raises(KeyError, match=typo):
        _build(_model_cfg(diversity_loss=dict(type='PatchCosinLoss')))
    cfg = _model_cfg(diversity_loss=dict(type='PatchCosineLoss'))
    # mmseg's own ViT: its tokens cannot be hooked the mmpretrain way
    cfg['backbone'] = dict(type='VisionTransformer', img_size=SIZE,
                           patch_size=8, embed_dims=32, num_layers=3,
                           num_heads=2, mlp_ratio=2, out_indices=(1, 2))
    with pytest.raises(TypeError, match='got VisionTransformer'):
        _build(cfg)


def _cli_options(*args):
    """``--cfg-options`` parsed as tools/train.py parses them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *args]).cfg_options


def test_runner_trains_demo_config_with_cli_switch(digits_root, tmp_path):
    """The demo UperNet-ViT config on the ADE20K-layout digit scenes, with
    the loss switched on by one --cfg-options item (as in README)."""
    iters = 3
    options = _cli_options(
        'model.diversity_loss.type=PatchCosineLoss',
        'model.backbone.init_cfg=None', f'train_cfg.max_iters={iters}',
        'default_hooks.logger.interval=1',
        f'default_hooks.checkpoint.interval={iters}',
        'train_dataloader.num_workers=0',
        *data_options(digits_root, 'ade'))
    cfg = load_config(osp.join(ROOT, ADE_CONFIG), options,
                      str(tmp_path / 'work'))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = build_runner(cfg)
    assert isinstance(runner.model.diversity_loss, PatchCosineLoss)
    assert runner.model.diversity_loss.loss_weight == 0.1
    runner.train()

    scalars = runner.message_hub.log_scalars
    values = {key: np.array(scalars[f'train/{key}'].data[0])
              for key in ('loss', 'decode.loss_ce', 'aux.loss_ce',
                          'loss_cosine')}
    assert all(len(v) == iters for v in values.values())
    # cosine of ViT tokens in [-1/(N-1), 1], times 0.1
    assert np.all(values['loss_cosine'] > -0.1 / 63)
    assert np.all(values['loss_cosine'] <= 0.1)
    np.testing.assert_allclose(
        values['loss'], values['decode.loss_ce'] + values['aux.loss_ce'] +
        values['loss_cosine'], rtol=1e-5)
    state = torch.load(tmp_path / 'work' / f'iter_{iters}.pth',
                       weights_only=False)['state_dict']
    assert not any(k.startswith('diversity_loss') for k in state)
