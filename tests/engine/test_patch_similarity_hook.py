"""PatchSimilarityHook inside a real mmengine Runner training a tiny ViT."""
import json

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS
from PIL import Image
from raw_tokens import similarity_curve
from tiny_vit import tiny_vit_backbone

import mmvitreg  # noqa: F401  (compat layer, registration)
from mmvitreg.engine.hooks import PatchSimilarityHook

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


@HOOKS.register_module(force=True)
class _RecordModeHook(Hook):
    """Records ``model.training`` after every iteration, after all hooks."""

    priority = 'LOWEST'

    def __init__(self):
        self.modes = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.modes.append(runner.model.training)


def write_images(root, count, seed):
    gen = torch.Generator().manual_seed(seed)
    images = []
    for k in range(count):
        cls = 'ab'[k % 2]
        (root / cls).mkdir(parents=True, exist_ok=True)
        pixels = torch.randint(0, 256, (32, 32, 3), generator=gen,
                               dtype=torch.uint8)
        Image.fromarray(pixels.numpy()).save(root / cls / f'{k}.png')
        images.append((f'{cls}/{k}.png', pixels))
    # CustomDataset order: class folders, then file names, sorted
    return [pixels for _, pixels in sorted(images, key=lambda x: x[0])]


def loader(root, shuffle):
    return dict(
        batch_size=2, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(type='CustomDataset', data_root=str(root),
                     pipeline=PIPELINE))


def make_runner(tmp_path, hook_cfg, with_val=True):
    write_images(tmp_path / 'train', 8, seed=0)
    val_images = write_images(tmp_path / 'val', 6, seed=1)
    cfg = dict(
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(num_classes=2, mean=[127.5] * 3,
                                   std=[64.0] * 3, to_rgb=True),
            backbone=tiny_vit_backbone(num_layers=3),
            head=dict(type='LinearClsHead', num_classes=2, in_channels=32)),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=loader(tmp_path / 'train', shuffle=True),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=100),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        default_scope='mmpretrain',
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=100,
                            save_last=False)),
        visualizer=dict(type='UniversalVisualizer',
                        vis_backends=[dict(type='LocalVisBackend')]),
        custom_hooks=[hook_cfg, dict(type='_RecordModeHook')],
        randomness=dict(seed=0),
        log_level='INFO')
    if with_val:
        cfg.update(
            val_dataloader=loader(tmp_path / 'val', shuffle=True),
            val_cfg=dict(),
            val_evaluator=dict(type='Accuracy'))
    return Runner.from_cfg(__import__('mmengine').Config(cfg)), val_images


def find_hook(runner, cls):
    return next(h for h in runner.hooks if isinstance(h, cls))


def read_scalars(runner):
    path = f'{runner.log_dir}/vis_data/scalars.json'
    with open(path) as f:
        return [json.loads(line) for line in f]


def expected_curve(model, images):
    return similarity_curve(tiny_vit_backbone(num_layers=3),
                            model.backbone.state_dict(), images)


def test_hook_logs_at_interval_and_epoch_ends(tmp_path):
    # 8 train images, batch 2 -> 4 iterations per epoch, 2 epochs
    runner, val_images = make_runner(
        tmp_path,
        dict(type='PatchSimilarityHook', interval=3, num_images=5,
             after_epoch=True, before_train=True))
    runner.train()
    hook = find_hook(runner, PatchSimilarityHook)

    assert [step for step, _ in hook.history] == [0, 3, 4, 6, 8]
    assert all(len(curve) == 3 for _, curve in hook.history)
    # training changes the curve
    assert hook.history[0][1] != pytest.approx(hook.history[-1][1])

    # probe = first 5 validation images in dataset order, not shuffled
    assert hook._probe_size == 5
    assert [len(batch['inputs']) for batch in hook._probe] == [2, 2, 1]
    final = expected_curve(runner.model, val_images[:5])
    assert hook.history[-1][1] == pytest.approx(final, abs=1e-5)

    records = [r for r in read_scalars(runner) if 'patch_sim/last' in r]
    assert [r['step'] for r in records] == [0, 3, 4, 6, 8]
    for record, (_, curve) in zip(records, hook.history, strict=True):
        assert [record[f'patch_sim/layer_{i:02d}'] for i in range(3)] == (
            pytest.approx(curve))
        assert record['patch_sim/last'] == pytest.approx(curve[-1])
    # no stale re-logging by LoggerHook at other iterations
    other = [r for r in read_scalars(runner) if 'loss' in r]
    assert other and all('patch_sim/last' not in r for r in other)

    buffer = runner.message_hub.get_scalar('patch_sim/last')
    assert buffer.current() == pytest.approx(final[-1], abs=1e-5)
    assert len(buffer.data[0]) == 5
    assert runner.message_hub.get_scalar(
        'patch_sim/layer_00').current() == pytest.approx(final[0], abs=1e-5)

    # train mode restored after every measurement
    assert find_hook(runner, _RecordModeHook).modes == [True] * 8
    with open(f'{runner.log_dir}/{runner.timestamp}.log') as f:
        log = f.read()
    assert 'Patch similarity at iter 3 (5 images, 3 blocks)' in log


def test_hook_falls_back_to_train_data_without_val(tmp_path):
    runner, _ = make_runner(
        tmp_path,
        dict(type='PatchSimilarityHook', interval=4, num_images=100,
             batch_size=3),
        with_val=False)
    runner.train()
    hook = find_hook(runner, PatchSimilarityHook)
    assert [step for step, _ in hook.history] == [4, 8]
    assert hook._probe_size == 8  # the whole training set
    assert [len(batch['inputs']) for batch in hook._probe] == [3, 3, 2]
    records = [r for r in read_scalars(runner) if 'patch_sim/last' in r]
    assert [r['step'] for r in records] == [4, 8]


def test_hook_rejects_bad_arguments():
    with pytest.raises(ValueError, match='split'):
        PatchSimilarityHook(split='test')
    with pytest.raises(ValueError, match='num_images'):
        PatchSimilarityHook(num_images=0)
    assert PatchSimilarityHook().scalar_names(3) == [
        'patch_sim/layer_00', 'patch_sim/layer_01', 'patch_sim/layer_02']
    assert PatchSimilarityHook().scalar_names(101)[-1] == (
        'patch_sim/layer_100')
