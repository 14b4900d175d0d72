"""Activation checkpointing in every backbone the configs use gives the
plain step's loss and gradients, and really recomputes the blocks.

Switches: ``with_cp=True`` on ``DeiT3ViT`` and ``LVViT`` (the suite's) and
``SwinTransformer`` (mmpretrain's); mmpretrain's ``VisionTransformer`` has
none, so its configs use mmengine's top-level config key
``activation_checkpointing = ['backbone.layers.0', ...]``, which the
``Runner`` applies with ``turn_on_activation_checkpointing`` (called
directly here).
"""
import copy

import pytest
import torch
from mmengine.runner import turn_on_activation_checkpointing
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401

TINY_VIT = dict(embed_dims=32, num_layers=3, num_heads=2,
                feedforward_channels=64)
NUM_CLASSES = 10


def _classifier(backbone: dict, in_channels: int = 32) -> dict:
    """A diverse classifier (cosine + contrastive on hooked tokens, so the
    hooks are exercised too) around ``backbone``."""
    return dict(
        type='DiverseImageClassifier',
        backbone=backbone,
        neck=dict(type='GlobalAveragePooling')
        if backbone['type'] == 'SwinTransformer' else None,
        head=dict(type='LinearClsHead' if backbone['type'] ==
                  'SwinTransformer' else 'VisionTransformerClsHead',
                  num_classes=NUM_CLASSES, in_channels=in_channels),
        cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
        contrastive_loss=dict(type='PatchContrastiveLoss'),
        data_preprocessor=dict(num_classes=NUM_CLASSES))


CASES = {
    'DeiT3ViT': dict(type='DeiT3ViT', arch=TINY_VIT, img_size=32,
                     patch_size=8, drop_path_rate=0.2),
    'LVViT': dict(type='LVViT', arch=dict(TINY_VIT, stem_channels=8),
                  img_size=32, patch_size=8, drop_path_rate=0.2),
    'SwinTransformer': dict(
        type='SwinTransformer',
        arch=dict(embed_dims=16, depths=[2, 2], num_heads=[1, 2]),
        img_size=32, window_size=2, drop_path_rate=0.2, out_indices=(1, )),
    'VisionTransformer': dict(type='VisionTransformer', arch=TINY_VIT,
                              img_size=32, patch_size=8, drop_path_rate=0.2),
}
IN_CHANNELS = {'SwinTransformer': 32}


def _switch_on(model, name: str) -> None:
    if name == 'VisionTransformer':
        turn_on_activation_checkpointing(
            model, [f'backbone.layers.{i}' for i in range(3)])


def _step(model):
    """Loss terms and gradients of one training step."""
    torch.manual_seed(3)
    inputs = torch.randn(4, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    losses = model.loss(inputs, samples)
    sum(losses.values()).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()
             if p.grad is not None}
    return {k: v.detach() for k, v in losses.items()}, grads


def _attention_calls(model) -> list:
    calls = []
    for name, module in model.backbone.named_modules():
        if name.endswith('attn') or name.endswith('w_msa'):
            module.register_forward_hook(
                lambda *args, n=name: calls.append(n))
    return calls


@pytest.mark.parametrize('name', sorted(CASES))
def test_checkpointing_keeps_loss_and_gradients(name):
    backbone = dict(CASES[name])
    torch.manual_seed(0)
    plain = MODELS.build(_classifier(backbone, IN_CHANNELS.get(name, 32)))
    plain.init_weights()
    plain.train()
    if name != 'VisionTransformer':
        backbone['with_cp'] = True
    ckpt = MODELS.build(_classifier(backbone, IN_CHANNELS.get(name, 32)))
    ckpt.load_state_dict(plain.state_dict())
    ckpt.train()
    _switch_on(ckpt, name)

    plain_calls, ckpt_calls = _attention_calls(plain), _attention_calls(ckpt)
    losses, grads = _step(plain)
    ckpt_losses, ckpt_grads = _step(ckpt)
    # each block's attention ran again in backward (recomputation)
    assert len(ckpt_calls) == 2 * len(plain_calls) > 0
    assert set(losses) == set(ckpt_losses) >= {'loss', 'loss_cosine',
                                                'loss_contrastive'}
    for key in losses:
        torch.testing.assert_close(ckpt_losses[key], losses[key],
                                   rtol=0, atol=0)
    assert set(grads) == set(ckpt_grads)
    for key in grads:
        torch.testing.assert_close(ckpt_grads[key], grads[key],
                                   rtol=1e-6, atol=1e-7, msg=key)


def test_no_recomputation_without_gradients():
    """Inference with ``with_cp=True`` runs each block once."""
    model = MODELS.build(dict(CASES['DeiT3ViT'], with_cp=True))
    model.train()
    calls = []
    for layer in model.layers:
        layer.attn.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    assert len(calls) == len(model.layers)


def test_with_cp_is_stored_per_block():
    for name in ('DeiT3ViT', 'LVViT'):
        model = MODELS.build(dict(copy.deepcopy(CASES[name]), with_cp=True))
        assert all(layer.with_cp for layer in model.layers)
        model = MODELS.build(CASES[name])
        assert not any(layer.with_cp for layer in model.layers)
