"""Released LV-ViT checkpoints (zihangJiang/TokenLabeling) -> mmpretrain.LVViT.

No release can be downloaded here and timm has no LV-ViT, so the release is
written by hand: :func:`release_state_dict` lists the key names and shapes
of ``tlt/models/lvvit.py`` (``LV_ViT`` with ``PatchEmbed4_2``, ``Block``,
``head`` and ``aux_head``) with random values, and :func:`release_forward`
computes that model's tokens directly from those tensors (functional
re-statement of the released forward). The converted checkpoint must fill
every tensor of ``mmpretrain.LVViT`` and give the same tokens.
"""
import importlib.util
import math
import os.path as osp
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import mmvitreg  # noqa: F401  (compat layer, checked Pretrained, LVViT)
from mmvitreg.converters import (
    LVVIT_RELEASES,
    CheckpointFormatError,
    convert_file,
    convert_lvvit,
    convert_state_dict,
    lvvit_grid,
)
from mmvitreg.models.backbones import LVViT

from .conftest import timm_vit

TOOL = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                'convert_checkpoint.py')

#: Tiny LV-ViT: 64 px, 16 px tokens -> 4 x 4 grid; skip_lam 2 as LV-ViT-S.
TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=96,
            skip_lam=2.0, stem_channels=8)


def release_state_dict(dim=32, depth=2, ffn=96, stem=8, grid=4,
                       num_classes=5, seed=0, device=None) -> OrderedDict:
    """Keys and shapes of a released ``LV_ViT`` (``return_dense=True``),
    values ~ N(0, 0.3^2) (BN variances in [0.5, 1.5), counters 7)."""
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        if device == 'meta':
            return torch.empty(shape, device='meta')
        return 0.3 * torch.randn(shape, generator=gen)

    sd = OrderedDict(cls_token=rand(1, 1, dim),
                     pos_embed=rand(1, 1 + grid * grid, dim))
    for i, cin in ((1, 3), (2, stem), (3, stem)):
        k = 7 if i == 1 else 3
        sd[f'patch_embed.conv{i}.weight'] = rand(stem, cin, k, k)
        sd[f'patch_embed.bn{i}.weight'] = rand(stem)
        sd[f'patch_embed.bn{i}.bias'] = rand(stem)
        sd[f'patch_embed.bn{i}.running_mean'] = rand(stem)
        sd[f'patch_embed.bn{i}.running_var'] = (
            rand(stem) if device == 'meta' else
            0.5 + torch.rand(stem, generator=gen))
        sd[f'patch_embed.bn{i}.num_batches_tracked'] = torch.tensor(
            7, device=device)
    sd['patch_embed.proj.weight'] = rand(dim, stem, 8, 8)
    sd['patch_embed.proj.bias'] = rand(dim)
    for b in range(depth):
        p = f'blocks.{b}.'
        sd.update({
            p + 'norm1.weight': rand(dim), p + 'norm1.bias': rand(dim),
            p + 'attn.qkv.weight': rand(3 * dim, dim),  # qkv_bias=False
            p + 'attn.proj.weight': rand(dim, dim),
            p + 'attn.proj.bias': rand(dim),
            p + 'norm2.weight': rand(dim), p + 'norm2.bias': rand(dim),
            p + 'mlp.fc1.weight': rand(ffn, dim),
            p + 'mlp.fc1.bias': rand(ffn),
            p + 'mlp.fc2.weight': rand(dim, ffn),
            p + 'mlp.fc2.bias': rand(dim),
        })
    sd.update({'norm.weight': rand(dim), 'norm.bias': rand(dim),
               'head.weight': rand(num_classes, dim),
               'head.bias': rand(num_classes),
               'aux_head.weight': rand(num_classes, dim),
               'aux_head.bias': rand(num_classes)})
    return sd


def release_forward(sd, x, num_heads=2, skip_lam=2.0) -> torch.Tensor:
    """Released ``LV_ViT.forward_features`` (eval): tokens (B, 1 + N, C)
    after the final norm, computed from the release's own key names."""
    for i in (1, 2, 3):
        x = F.conv2d(x, sd[f'patch_embed.conv{i}.weight'],
                     stride=2 if i == 1 else 1, padding=3 if i == 1 else 1)
        bn = f'patch_embed.bn{i}.'
        x = F.relu(F.batch_norm(x, sd[bn + 'running_mean'],
                                sd[bn + 'running_var'], sd[bn + 'weight'],
                                sd[bn + 'bias'], eps=1e-5))
    w = sd['patch_embed.proj.weight']
    x = F.conv2d(x, w, sd['patch_embed.proj.bias'], stride=w.shape[-1])
    x = x.flatten(2).transpose(1, 2)
    B, _, C = x.shape
    x = torch.cat([sd['cls_token'].expand(B, -1, -1), x], 1) + sd['pos_embed']
    hd = C // num_heads
    blocks = 1 + max(int(k.split('.')[1]) for k in sd if k[:7] == 'blocks.')
    for b in range(blocks):
        p = f'blocks.{b}.'
        h = F.layer_norm(x, (C, ), sd[p + 'norm1.weight'],
                         sd[p + 'norm1.bias'])
        q, k, v = (h @ sd[p + 'attn.qkv.weight'].T).reshape(
            B, -1, 3, num_heads, hd).permute(2, 0, 3, 1, 4)
        attn = ((q * hd**-0.5) @ k.transpose(-2, -1)).softmax(-1)
        h = (attn @ v).transpose(1, 2).reshape(B, -1, C)
        h = F.linear(h, sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'])
        x = x + h / skip_lam
        h = F.layer_norm(x, (C, ), sd[p + 'norm2.weight'],
                         sd[p + 'norm2.bias'])
        h = F.gelu(
            F.linear(h, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias']))
        h = F.linear(h, sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
        x = x + h / skip_lam
    return F.layer_norm(x, (C, ), sd['norm.weight'], sd['norm.bias'])


def tool():
    spec = importlib.util.spec_from_file_location('convert_checkpoint', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pretrained_lvvit(checkpoint, img_size=64) -> LVViT:
    """``mmpretrain.LVViT`` initialised through the checked ``Pretrained``
    initialiser with ``min_match=1.0`` (any missing tensor raises)."""
    model = MODELS.build(
        dict(type='LVViT', arch=TINY, img_size=img_size, out_type='raw',
             init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint),
                           prefix='backbone.', min_match=1.0)))
    model.init_weights()
    model.eval()  # mmpretrain's train() returns None: no chaining
    return model


@pytest.fixture
def images() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64,
                       generator=torch.Generator().manual_seed(1))


def test_release_converts_to_lvvit_and_matches(tmp_path, images, capsys):
    release = release_state_dict()
    # a timm-trainer .pth.tar: the weights under 'state_dict' plus plain data
    src = tmp_path / 'lvvit_tiny.pth.tar'
    torch.save({'state_dict': release, 'epoch': 300, 'arch': 'lvvit_s'}, src)
    dst = tmp_path / 'lvvit_tiny_mm.pth'
    meta = tool().main([str(src), str(dst)])
    out = capsys.readouterr().out
    assert f'{src}: format lvvit (detected) -> mmpretrain.LVViT' in out
    assert meta['dropped'] == ['head.weight', 'head.bias', 'aux_head.weight',
                               'aux_head.bias']
    saved = torch.load(dst, weights_only=True)['state_dict']
    with torch.device('meta'):
        reference_keys = LVViT(arch=TINY, img_size=64).state_dict()
    assert set(saved) == {'backbone.' + k for k in reference_keys}
    assert len(saved) == len(release) - 4

    model = pretrained_lvvit(dst)
    stem = model.patch_embed.stem
    assert torch.equal(stem[3].weight, release['patch_embed.conv2.weight'])
    assert torch.equal(stem[7].running_var,
                       release['patch_embed.bn3.running_var'])
    assert int(stem[4].num_batches_tracked) == 7
    assert torch.equal(model.ln1.weight, release['norm.weight'])
    with torch.no_grad():
        tokens = model(images)[0]
    assert tokens.shape == (2, 1 + 16, 32)
    torch.testing.assert_close(tokens, release_forward(release, images))


def test_released_sizes_give_lvvit_key_sets_and_settings():
    """Real-size releases on the meta device: every converted key and shape
    is one of ``LVViT(arch)``'s and vice versa; num_heads/skip_lam come from
    the release definitions. LV-ViT-S: 2 + 3 convs + 3 x 5 BN + 2 proj +
    16 x 11 block + 2 norm = 200 tensors, + 4 head tensors dropped."""
    for (dim, depth, ffn, stem), known in LVVIT_RELEASES.items():
        release = release_state_dict(dim, depth, ffn, stem, grid=14,
                                     num_classes=1000, device='meta')
        result = convert_lvvit(release, source='release.pth')
        settings = result.arch['arch']
        assert result.arch['release'] == known['release']
        assert (settings['num_heads'], settings['skip_lam']) == (
            known['num_heads'], known['skip_lam'])
        assert result.arch['patch_size'] == 16
        assert result.arch['img_size'] == [224, 224]
        with torch.device('meta'):
            model = LVViT(arch=settings, img_size=224)
        expected = {k: v.shape for k, v in model.state_dict().items()}
        assert {k: v.shape for k, v in result.state_dict.items()} == expected
        if known['release'] in ('lvvit_s', 'lvvit_m', 'lvvit_l'):
            name = known['release'][-1]
            assert settings == LVViT.arch_zoo[name]
        if known['release'] == 'lvvit_s':
            assert len(release) == 204 and len(expected) == 200


def test_unknown_size_leaves_heads_and_skip_lam_to_the_config():
    result = convert_state_dict(release_state_dict())
    assert result.arch['release'] is None
    assert result.arch['arch'] == dict(TINY, num_heads=None, skip_lam=None)
    assert any('set num_heads and skip_lam' in n for n in result.notes)


def test_pos_embed_resized_for_512_segmentation(tmp_path, capsys):
    release = release_state_dict()
    src, dst = tmp_path / 'lvvit.pth', tmp_path / 'lvvit_512.pth'
    torch.save(release, src)
    meta = tool().main([str(src), str(dst), '--img-size', '512'])
    assert 'pos_embed resized from a (4, 4) to a (32, 32) grid' in (
        capsys.readouterr().out)
    assert meta['arch']['img_size'] == [512, 512]
    saved = torch.load(dst, weights_only=True)['state_dict']
    pos = saved['backbone.pos_embed']
    assert pos.shape == (1, 1 + 32 * 32, 32)
    assert torch.equal(pos[:, 0], release['pos_embed'][:, 0])
    model = pretrained_lvvit(dst, img_size=512)  # 100% matched, no resize
    assert model.patch_resolution == (32, 32)
    assert torch.equal(model.pos_embed, pos)
    # the same as mmpretrain's own bicubic resize when loading the 4x4 file
    unresized = tmp_path / 'unresized.pth'
    tool().main([str(src), str(unresized)])
    on_load = pretrained_lvvit(unresized, img_size=512)
    torch.testing.assert_close(on_load.pos_embed, pos)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 512, 512))[0].shape == (1, 1025, 32)
    # a constant patch grid stays constant under the bicubic resize
    flat = dict(release, pos_embed=torch.full((1, 17, 32), 0.25))
    resized = convert_lvvit(flat, img_size=(512, 1024)).state_dict['pos_embed']
    assert resized.shape == (1, 1 + 32 * 64, 32)
    torch.testing.assert_close(resized, torch.full_like(resized, 0.25))


@pytest.mark.parametrize('size,patch', [((512, 512), 16), ((500, 1000), 16),
                                        ((1023, 769), 16), ((384, 384), 16),
                                        ((100, 60), 8)])
def test_grid_is_the_conv_stem_grid(size, patch):
    with torch.device('meta'):
        model = LVViT(arch=TINY, img_size=size, patch_size=patch)
    assert lvvit_grid(size, patch) == model.patch_resolution
    # padded like mmpretrain's ViT: ceil, not the released round-down
    assert lvvit_grid(size, patch) == (math.ceil(size[0] / patch),
                                       math.ceil(size[1] / patch))


def test_wrong_and_unknown_keys_name_the_file(tmp_path):
    def convert(state, name, *args):
        path = tmp_path / name
        torch.save(state, path)
        with pytest.raises(SystemExit) as info:
            tool().main([str(path), str(tmp_path / 'o.pth'), *args])
        assert str(path) in str(info.value.code)
        assert not (tmp_path / 'o.pth').exists()
        return str(info.value.code)

    release = release_state_dict()
    grouped = dict(release)
    grouped['blocks.1.mlp.fc1.group_weight'] = grouped.pop(
        'blocks.1.mlp.fc1.weight')
    msg = convert(grouped, 'grouped.pth')
    assert 'no mmpretrain.LVViT counterpart' in msg
    assert 'blocks.1.mlp.fc1.group_weight' in msg
    mha_only = {
        k: v for k, v in release.items()
        if not k.startswith(('blocks.1.norm2', 'blocks.1.mlp'))
    }
    msg = convert(mha_only, 'order.pth')
    assert 'block 1 is not a full transformer block' in msg
    assert 'blocks.1.norm2.weight' in msg
    msg = convert(release, 'as_vit.pth', '--type', 'timm-vit')
    assert 'use --type lvvit' in msg
    msg = convert(timm_vit().state_dict(), 'vit.pth', '--type', 'lvvit')
    assert 'not a released LV-ViT state dict' in msg
    assert 'Sample keys: cls_token, pos_embed, patch_embed.proj.weight' in msg
    msg = convert(release, 'patch8.pth', '--patch-size', '8')
    assert 'has patch size 16' in msg
    with pytest.raises(CheckpointFormatError, match=r'odd\.pth.*not a square'):
        convert_lvvit(dict(release, pos_embed=torch.zeros(1, 20, 32)),
                      source='odd.pth')


def test_timm_vit_is_still_detected_as_timm_vit(tmp_path):
    path = tmp_path / 'vit.pth'
    torch.save(timm_vit().state_dict(), path)
    result, _ = convert_file(str(path), str(tmp_path / 'o.pth'))
    assert result.format == 'timm-vit'
