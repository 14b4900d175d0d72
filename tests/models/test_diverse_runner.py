"""A real mmengine Runner trains DiverseImageClassifier and logs each
diversification term under its own key."""
import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image
from tiny_vit import tiny_vit_backbone

import mmvitreg  # noqa: F401


def _write_images(root, num_classes=2, per_class=4):
    rng = np.random.default_rng(0)
    for c in range(num_classes):
        folder = root / f'class{c}'
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f'{i}.png')


def test_runner_logs_separate_losses(tmp_path):
    _write_images(tmp_path / 'data')
    cfg = Config(dict(
        default_scope='mmpretrain',
        work_dir=str(tmp_path / 'work'),
        model=dict(
            type='DiverseImageClassifier',
            backbone=tiny_vit_backbone(),
            head=dict(type='VisionTransformerClsHead', num_classes=2,
                      in_channels=32),
            data_preprocessor=dict(num_classes=2),
            train_cfg=dict(augments=[
                dict(type='Mixup', alpha=0.8),
                dict(type='PatchMixing', alpha=1.0, patch_size=4)
            ]),
            cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
            contrastive_loss=dict(type='PatchContrastiveLoss'),
            mixing_loss=dict(type='PatchMixingLoss')),
        train_dataloader=dict(
            batch_size=4, num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(type='CustomDataset',
                         data_root=str(tmp_path / 'data'),
                         pipeline=[dict(type='LoadImageFromFile'),
                                   dict(type='PackInputs')])),
        train_cfg=dict(by_epoch=False, max_iters=4),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook',
                                           interval=4, by_epoch=False)),
        randomness=dict(seed=0),
    ))
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    for key in ('loss', 'loss_cosine', 'loss_contrastive', 'loss_mixing'):
        history = scalars[f'train/{key}']
        values = history.data[0]
        assert len(values) == 4 and np.isfinite(values).all()
    assert (tmp_path / 'work' / 'iter_4.pth').exists()
