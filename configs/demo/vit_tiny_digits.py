# Demo: the DeiT-S24 recipe (configs/pretrain/deit_s24.py) shrunk to a tiny
# ViT on the 32 px digits stand-in, for a CPU run of about a minute.
# mmengine forbids a key defined by two bases, so this config cannot list
# both ``deit_s24.py`` and a dataset file; it inherits the same _base_
# components as deit_s24.py with the digits dataset in place of ImageNet and
# overrides only sizes and schedule length (tests/test_configs.py checks that
# the base lists match).
_base_ = [
    '../_base_/models/deit.py',
    '../_base_/datasets/digits_imagenet.py',
    '../_base_/schedules/deit_in1k_300e.py',
    '../_base_/default_runtime_cls.py',
]

embed_dims = 64
model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=12,
            num_heads=4,
            feedforward_channels=2 * embed_dims),
        img_size=32,
        # 8 px patches (4x4 tokens): 4x cheaper than 4 px on 2 CPU cores;
        # 83.6% top-1 after 30 epochs measured here (4 px: 76% after 20).
        patch_size=8,
        drop_path_rate=0.1),
    head=dict(num_classes=10, in_channels=embed_dims),
    # Mixup/CutMix off: measured here with them (and RandAugment) the tiny
    # ViT stayed at chance (10.0% top-1, loss 2.30) after 10 epochs.
    train_cfg=dict(_delete_=True, augments=None))

# Light augmentation for 32 px digits: RandomResizedCrop's default area range
# (0.08-1) leaves 9 px crops, and RandAugment/RandomErasing/flip (mirrored
# digits) kept the loss at ln(10) for 3+ epochs; only a mild crop remains.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, num_workers=2)
test_dataloader = val_dataloader

# 10 epochs of 45 iterations: 1 warm-up epoch, cosine; lr 1e-3 (the DeiT
# lr at batch 1024), not 5e-4 * 32 / 512, which is too small for 450 steps.
# Measured on an idle 2-core machine: 10 epochs at lr 1e-3 reach only 55%
# top-1; 25 epochs at lr 2e-3 reach ~80% in ~90 s.
max_epochs = 25
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
