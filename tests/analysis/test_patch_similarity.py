"""Tests for the per-layer patch similarity library and its CLI."""
import csv
import json
import math
import os.path as osp
import subprocess
import textwrap

import mmvitreg  # noqa: F401  (compat layer, registration)
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from mmvitreg.analysis.patch_similarity import (batch_similarity,
                                                block_modules,
                                                capture_layer_tokens,
                                                collect_layer_tokens,
                                                layer_similarity,
                                                mean_patch_cosine)

REPO = '/work/main'
PYTHON = '/work/main/.venv/bin/python'
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


def test_matches_explicit_pairwise_mean():
    torch.manual_seed(1)
    tokens = torch.randn(3, 7, 5) + 0.5
    unit = F.normalize(tokens, dim=-1)
    cos = unit @ unit.transpose(1, 2)  # (B, N, N)
    off_diag = ~torch.eye(7, dtype=torch.bool)
    expected = cos[:, off_diag].mean(dim=1)
    torch.testing.assert_close(mean_patch_cosine(tokens), expected)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r'\(B, N, C\)'):
        mean_patch_cosine(torch.randn(4, 8))
    with pytest.raises(ValueError, match='at least 2 patches'):
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
    for out, tok, ref in zip(again, tokens, reference):
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
        with capture_layer_tokens(model):
            raise RuntimeError('boom')
    assert no_hooks(model)
    resnet = MODELS.build(dict(type='ResNet', depth=18))
    with pytest.raises(TypeError, match='ResNet'):
        collect_layer_tokens(resnet, torch.randn(1, 3, 32, 32))


# ---------------------------------------------------------- layer_similarity
def test_layer_similarity_averages_first_images_and_restores_mode():
    torch.manual_seed(0)
    classifier = MODELS.build(
        dict(type='ImageClassifier',
             data_preprocessor=dict(type='ClsDataPreprocessor',
                                    mean=[127.5] * 3, std=[64.0] * 3),
             backbone=dict(type='VisionTransformer', arch=TINY_VIT,
                           img_size=32, patch_size=4),
             head=dict(type='LinearClsHead', num_classes=3, in_channels=32)))
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
