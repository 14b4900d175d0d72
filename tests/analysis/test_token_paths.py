"""The loss path, PatchSimilarityHook and the patch-similarity tool read
the same last-layer tokens, for ViT, DeiT3ViT, LVViT and Swin.

Each path runs its real code: ``DiverseImageClassifier.loss`` hands the
tokens to its cosine loss (here a recording module); the hook's
``measure`` and the tool's ``checkpoint_similarity`` hand them to
``mean_patch_cosine`` (recorded by wrapping it). The expectation comes
from none of them: the backbone's own output (``out_type='raw'``, the last
block after the final norm; Swin's last feature map after ``norm3``).
"""
import types

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from PIL import Image
from raw_tokens import raw_vit_tokens

import mmvitreg  # noqa: F401  (compat layer, registration)
import mmvitreg.models.utils.patch_similarity as similarity
from mmvitreg.analysis.checkpoint_similarity import (
    checkpoint_similarity,
    probe_loader,
)
from mmvitreg.engine.hooks import PatchSimilarityHook
from mmvitreg.utils.config import load_config

VIT_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2,
                feedforward_channels=64)
BACKBONES = {
    'VisionTransformer': (32, dict(type='VisionTransformer', arch=VIT_ARCH,
                                   img_size=32, patch_size=8)),
    'DeiT3ViT': (32, dict(type='DeiT3ViT', arch=VIT_ARCH, img_size=32,
                          patch_size=8)),
    'LVViT': (32, dict(type='LVViT', img_size=32, patch_size=8,
                       arch=dict(VIT_ARCH, skip_lam=2.0, stem_channels=8))),
    'SwinTransformer': (64, dict(
        type='SwinTransformer', img_size=64, window_size=2,
        arch=dict(embed_dims=16, depths=[1, 1, 1, 1],
                  num_heads=[1, 1, 2, 2]))),
}
CONFIG = '''
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
data_preprocessor = dict(num_classes=2, mean=[127.5] * 3, std=[64.0] * 3,
                         to_rgb=True)
model = dict(
    type='DiverseImageClassifier', backbone={backbone!r},
    neck={neck!r},
    head=dict(type='LinearClsHead', num_classes=2, in_channels={channels}))
val_dataloader = dict(
    batch_size=3, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root={root!r},
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
'''


class RecordingLoss(nn.Module):
    """Stands in for the cosine loss: keeps the tokens it is given."""

    def forward(self, tokens):
        self.tokens = tokens.detach()
        return tokens.sum() * 0


def write_project(tmp_path, name):
    size, backbone = BACKBONES[name]
    rng = np.random.default_rng(0)
    for k in range(3):
        folder = tmp_path / 'data' / 'ab'[k % 2]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f'{k}.png')
    swin = name == 'SwinTransformer'
    config = tmp_path / 'model.py'
    config.write_text(CONFIG.format(
        backbone=backbone, root=str(tmp_path / 'data'),
        neck=dict(type='GlobalAveragePooling') if swin else None,
        channels=128 if swin else 32))
    return str(config)


def expected_last_tokens(backbone_cfg, state, inputs):
    """The backbone's own output, no hooks."""
    if backbone_cfg['type'] != 'SwinTransformer':
        return raw_vit_tokens(backbone_cfg, state, inputs)[-1]
    backbone = MODELS.build(backbone_cfg)
    backbone.load_state_dict(state)
    backbone.eval()
    with torch.no_grad():
        return backbone(inputs)[-1].flatten(2).transpose(1, 2)


@pytest.mark.parametrize('name', list(BACKBONES))
def test_loss_hook_and_tool_read_the_same_last_tokens(name, tmp_path,
                                                      monkeypatch):
    config = write_project(tmp_path, name)
    cfg = load_config(config)
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, data_preprocessor=dict(
        cfg.data_preprocessor, type='DiverseDataPreprocessor')))
    model.cosine_loss = RecordingLoss()
    model.eval()
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    batch = next(iter(probe_loader(cfg, 'val', config)))
    data = model.data_preprocessor(batch, False)
    expected = expected_last_tokens(
        BACKBONES[name][1], model.backbone.state_dict(), data['inputs'])

    seen = []

    def recording_cosine(tokens):
        seen.append(tokens)
        return similarity_cosine(tokens)

    similarity_cosine = similarity.mean_patch_cosine
    monkeypatch.setattr(similarity, 'mean_patch_cosine', recording_cosine)
    with torch.no_grad():
        model.loss(data['inputs'], data['data_samples'])
    loss_tokens = model.cosine_loss.tokens

    hook = PatchSimilarityHook(num_images=3)
    hook._probe, hook._probe_size = [batch], 3  # what before_train builds
    hook_curve = hook.measure(types.SimpleNamespace(model=model))
    hook_tokens = seen[-1]

    tool = checkpoint_similarity(config, str(ckpt), num_images=3,
                                 device='cpu')
    tool_tokens = seen[-1]

    assert tool['backbone'] == name
    assert expected.shape[1] >= 2
    for tokens in (loss_tokens, hook_tokens, tool_tokens):
        torch.testing.assert_close(tokens, expected)
    assert tool['similarity'] == pytest.approx(hook_curve, abs=1e-6)
