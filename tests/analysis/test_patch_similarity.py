"""Tests for the per-layer patch similarity library and its CLI."""
import csv
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from raw_tokens import similarity_curve
from tiny_vit import tiny_vit_backbone

import mmvitreg  # noqa: F401  (compat layer, registration)
from mmvitreg.models.utils import record_patch_tokens
from mmvitreg.models.utils.patch_similarity import (
    batch_similarity,
    block_modules,
    collect_layer_tokens,
    layer_similarity,
    mean_patch_cosine,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_VIT = dict(embed_dims=32, num_layers=3, num_heads=2,
                feedforward_channels=64)


def tiny_vit(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='VisionTransformer', arch=TINY_VIT, img_size=32,
               patch_size=4)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.eval()  # BaseBackbone.train returns None: no chaining
    return model


def tiny_swin():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='SwinTransformer',
             arch=dict(embed_dims=16, depths=[1, 1, 2, 1],
                       num_heads=[1, 1, 2, 2]),
             img_size=64, window_size=2))
    model.eval()
    return model


def no_hooks(backbone):
    return all(len(block._forward_hooks) == 0
               for _, block in block_modules(backbone))


# --------------------------------------------------------- mean_patch_cosine
def test_identical_tokens_give_one():
    tokens = torch.randn(2, 1, 8).expand(2, 5, 8)
    torch.testing.assert_close(mean_patch_cosine(tokens), torch.ones(2))


def test_orthogonal_tokens_give_zero():
    tokens = torch.eye(6)[None, :4] * torch.tensor([1., 2., 3., 4.])[:, None]
    torch.testing.assert_close(mean_patch_cosine(tokens), torch.zeros(1))


def test_hand_computed_value():
    # cos(a, b) = 0, cos(a, c) = cos(b, c) = 1/sqrt(2); six ordered pairs.
    tokens = torch.tensor([[[1., 0.], [0., 1.], [1., 1.]]])
    expected = 2 * (0 + 2 / math.sqrt(2)) / 6
    assert mean_patch_cosine(tokens).item() == pytest.approx(expected)


def test_zero_token_counts_as_orthogonal():
    # only the pair (0, 1) is similar: 2 of 6 ordered pairs
    tokens = torch.tensor([[[2., 0.], [1., 0.], [0., 0.]]])
    assert mean_patch_cosine(tokens).item() == pytest.approx(1 / 3)


def test_matches_explicit_pairwise_mean():
    torch.manual_seed(1)
    tokens = torch.randn(3, 7, 5) + 0.5
    unit = F.normalize(tokens, dim=-1)
    cos = unit @ unit.transpose(1, 2)  # (B, N, N)
    off_diag = ~torch.eye(7, dtype=torch.bool)
    expected = cos[:, off_diag].mean(dim=1)
    torch.testing.assert_close(mean_patch_cosine(tokens), expected)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r'\(B, N>=2, C\), got \(4, 8\)'):
        mean_patch_cosine(torch.randn(4, 8))
    with pytest.raises(ValueError, match=r'\(B, N>=2, C\), got \(2, 1, 8\)'):
        mean_patch_cosine(torch.randn(2, 1, 8))


# ------------------------------------------------------ collect_layer_tokens
def test_vit_tokens_per_block_and_unchanged_outputs():
    model = tiny_vit(out_type='raw', out_indices=[0, 1, 2])
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        reference = model(x)
        tokens = collect_layer_tokens(model, x)
        again = model(x)
    assert [tuple(t.shape) for t in tokens] == [(2, 64, 32)] * 3
    # raw outputs are (B, 1 + 64, C); the last one is after the final norm
    for out, tok, ref in zip(again, tokens, reference, strict=True):
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(tok, ref[:, 1:])
    with torch.no_grad():
        unnormed = collect_layer_tokens(model, x, final_norm=False)[-1]
    torch.testing.assert_close(model.ln1(unnormed), tokens[-1])
    assert not torch.allclose(unnormed, tokens[-1])
    assert no_hooks(model)


def test_vit_without_cls_token_keeps_every_patch():
    model = tiny_vit(with_cls_token=False, out_type='featmap')
    with torch.no_grad():
        tokens = collect_layer_tokens(model, torch.randn(1, 3, 32, 32))
    assert [tuple(t.shape) for t in tokens] == [(1, 64, 32)] * 3


def test_deit3_and_classifier_wrapping():
    torch.manual_seed(0)
    classifier = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='DeiT3', arch=TINY_VIT, img_size=32,
                           patch_size=4),
             head=dict(type='LinearClsHead', num_classes=3, in_channels=32)))
    classifier.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        before = classifier(x)
        tokens = collect_layer_tokens(classifier, x)
        after = classifier(x)
    assert [tuple(t.shape) for t in tokens] == [(2, 64, 32)] * 3
    torch.testing.assert_close(before, after)
    assert no_hooks(classifier.backbone)


def test_swin_tokens_per_block_through_stages():
    model = tiny_swin()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        reference = model(x)
        tokens = collect_layer_tokens(model, x)
        after = model(x)
    names = [name for name, _ in block_modules(model)]
    assert names == ['stages.0.blocks.0', 'stages.1.blocks.0',
                     'stages.2.blocks.0', 'stages.2.blocks.1',
                     'stages.3.blocks.0']
    assert [tuple(t.shape) for t in tokens] == [(2, 256, 16), (2, 64, 32),
                                                (2, 16, 64), (2, 16, 64),
                                                (2, 4, 128)]
    torch.testing.assert_close(reference[0], after[0])
    # last stage output (B, C, H, W) = norm3(last block) reshaped
    torch.testing.assert_close(
        tokens[-1], reference[0].flatten(2).transpose(1, 2))
    assert no_hooks(model)


def test_hooks_removed_on_error_and_unsupported_backbone():
    model = tiny_vit()
    with pytest.raises(RuntimeError, match='boom'):
        with record_patch_tokens(model, 'embed', every_layer=True):
            raise RuntimeError('boom')
    assert no_hooks(model)
    resnet = MODELS.build(dict(type='ResNet', depth=18))
    with pytest.raises(TypeError, match='ResNet'):
        collect_layer_tokens(resnet, torch.randn(1, 3, 32, 32))


# ---------------------------------------------------------- layer_similarity
def tiny_classifier():
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='ImageClassifier',
             data_preprocessor=dict(type='ClsDataPreprocessor',
                                    mean=[127.5] * 3, std=[64.0] * 3),
             backbone=dict(type='VisionTransformer', arch=TINY_VIT,
                           img_size=32, patch_size=4),
             head=dict(type='LinearClsHead', num_classes=3, in_channels=32)))


def test_layer_similarity_unwraps_ddp(tmp_path):
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel

    from mmvitreg.engine.process_group import close_process_group
    classifier = tiny_classifier()
    images = [torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
              for _ in range(2)]
    loader = [dict(inputs=images)]
    plain = layer_similarity(classifier, loader, num_images=2)
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg',
                            rank=0, world_size=1)
    try:
        _check_wrapped(MMDistributedDataParallel(module=classifier), loader,
                       plain)
    finally:
        # the DDP wrapper is garbage now: gloo's threads end here, not at
        # interpreter exit (mmvitreg/engine/process_group.py)
        left = close_process_group(success=False)
    assert left == []


def _check_wrapped(wrapped, loader, plain):
    assert layer_similarity(wrapped, loader, num_images=2) == (
        pytest.approx(plain, abs=1e-6))
    assert len(collect_layer_tokens(wrapped, torch.zeros(1, 3, 32, 32))) == 3


def test_layer_similarity_averages_first_images_and_restores_mode():
    classifier = tiny_classifier()
    images = [torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
              for _ in range(4)]
    loader = [dict(inputs=images[:2]), dict(inputs=images[2:])]
    classifier.train()
    curve = layer_similarity(classifier, loader, num_images=3)
    assert classifier.training
    assert len(curve) == 3
    classifier.eval()
    per_image = torch.cat([batch_similarity(classifier, batch)
                           for batch in loader])  # (4, 3)
    assert per_image.shape == (4, 3)
    expected = per_image[:3].double().mean(0)
    assert curve == pytest.approx(expected.tolist(), abs=1e-6)
    assert curve != pytest.approx(per_image.double().mean(0).tolist(),
                                  abs=1e-6)
    with pytest.raises(ValueError, match='no images'):
        layer_similarity(classifier, [], num_images=2)


# ----------------------------------------------------------------------- CLI
CONFIG_TEMPLATE = '''
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
data_preprocessor = dict(
    num_classes=2, mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0],
    to_rgb=True)
model = dict(
    type='ImageClassifier',
    backbone={backbone!r},
    head=dict(type='LinearClsHead', num_classes=2, in_channels=32))
val_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root={root!r},
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
'''


def write_tiny_project(tmp_path):
    """Four 32x32 RGB images in two class folders and a config over them."""
    from PIL import Image
    root = tmp_path / 'data'
    gen = torch.Generator().manual_seed(0)
    images = []
    for cls in ('a', 'b'):
        (root / cls).mkdir(parents=True)
        for k in range(2):
            pixels = torch.randint(0, 256, (32, 32, 3), generator=gen,
                                   dtype=torch.uint8)
            Image.fromarray(pixels.numpy()).save(root / cls / f'{k}.png')
            images.append(pixels)
    config = tmp_path / 'tiny_vit.py'
    config.write_text(CONFIG_TEMPLATE.format(
        root=str(root), backbone=tiny_vit_backbone(num_layers=3)))
    return config, images


def build_classifier(seed):
    torch.manual_seed(seed)
    return MODELS.build(
        dict(type='ImageClassifier',
             backbone=tiny_vit_backbone(num_layers=3),
             head=dict(type='LinearClsHead', num_classes=2,
                       in_channels=32)))


def run_cli(*args):
    return subprocess.run(
        [sys.executable, 'tools/analysis/patch_similarity.py',
         *map(str, args)],
        cwd=REPO, capture_output=True, text=True, timeout=300)


def expected_curve(model, images):
    return similarity_curve(tiny_vit_backbone(num_layers=3),
                            model.backbone.state_dict(), images)


def test_cli_two_checkpoints_end_to_end(tmp_path):
    config, images = write_tiny_project(tmp_path)
    models = [build_classifier(seed) for seed in (0, 1)]
    ckpts = []
    for name, model in zip(('base', 'other'), models, strict=True):
        path = tmp_path / f'{name}.pth'
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
        ckpts.append(path)
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'notes.txt').write_text('keep me')

    # 3 of the 4 images: the first two batches of 2, the second one cut
    proc = run_cli(config, ckpts[0], config, ckpts[1], '--num-images', 3,
                   '--batch-size', 2, '--out', out, '--labels', 'A', 'B')
    assert proc.returncode == 0, proc.stderr[-3000:]

    with open(out / 'patch_similarity.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['label'], r['layer']) for r in rows] == [
        ('A', '0'), ('A', '1'), ('A', '2'), ('B', '0'), ('B', '1'),
        ('B', '2')]
    for label, model in zip('AB', models, strict=True):
        got = [float(r['similarity']) for r in rows if r['label'] == label]
        assert got == pytest.approx(expected_curve(model, images[:3]),
                                    abs=1e-5)
        assert got != pytest.approx(expected_curve(model, images), abs=1e-5)

    report = json.loads((out / 'patch_similarity.json').read_text())
    assert [r['label'] for r in report['results']] == ['A', 'B']
    assert report['results'][0]['num_images'] == 3
    assert report['results'][0]['blocks'] == ['layers.0', 'layers.1',
                                              'layers.2']
    assert report['results'][0]['checkpoint'] == str(ckpts[0])
    png = (out / 'patch_similarity.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    assert (out / 'notes.txt').read_text() == 'keep me'
    assert 'layer' in proc.stdout and 'A' in proc.stdout


def test_cli_default_labels():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'patch_similarity_tool',
        osp.join(REPO, 'tools/analysis/patch_similarity.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.default_labels(['w/a/epoch_3.pth', 'w/b/best.pth']) == [
        'epoch_3', 'best']
    assert tool.default_labels(['w/a/latest.pth', 'w/b/latest.pth']) == [
        'a/latest', 'b/latest']
    assert tool.default_labels(['a/x.pth', 'a/x.pth']) == ['a/x#0', 'a/x#1']


def refused_checkpoint(tmp_path, state, name):
    """Run the CLI on ``state`` saved as ``name``: it must fail naming the
    file and write no CSV. Returns its stderr."""
    config, _ = write_tiny_project(tmp_path)
    bad = tmp_path / name
    torch.save({'state_dict': state, 'meta': {}}, bad)
    out = tmp_path / 'out'
    proc = run_cli(config, bad, '--out', out, '--num-images', 2)
    assert proc.returncode != 0
    assert str(bad) in proc.stderr
    assert not osp.exists(out / 'patch_similarity.csv')
    return proc.stderr


def test_cli_wrong_checkpoint_fails_naming_the_file(tmp_path):
    state = build_classifier(0).state_dict()
    state['head.classifier.weight'] = state.pop('head.fc.weight')
    stderr = refused_checkpoint(tmp_path, state, 'wrong_keys.pth')
    assert 'head.fc.weight' in stderr
    assert 'head.classifier.weight' in stderr


def test_cli_diverged_checkpoint_fails_naming_the_tensor(tmp_path):
    """The same rule as tools/test.py: NaN weights are refused, not
    measured (a NaN model gives NaN similarities, or none at all)."""
    state = build_classifier(0).state_dict()
    state['backbone.layers.1.attn.qkv.weight'][0, 0] = float('nan')
    stderr = refused_checkpoint(tmp_path, state, 'diverged.pth')
    assert 'NaN/inf values in 1 of' in stderr
    assert 'backbone.layers.1.attn.qkv.weight' in stderr
