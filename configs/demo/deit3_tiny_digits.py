# Demo: the DeiT III ViT-S recipe (configs/pretrain/deit3_s_in1k.py) shrunk
# to a tiny ViT on the 32 px digits stand-in, for a CPU run of about a
# minute. mmengine forbids a key defined by two bases, so this config cannot
# list both ``deit3_s_in1k.py`` and a dataset file; it inherits the same
# _base_ components as deit3_s_in1k.py with the digits dataset in place of
# ImageNet and overrides only sizes and schedule length:
# - tiny DeiT3ViT (embed 64, 12 blocks, 4 heads, MLP 128, 32 px, patch 4),
#   as configs/demo/vit_tiny_digits.py; drop path 0.05 constant, LayerScale
#   1e-4, BCE on Mixup 0.8 / CutMix 1.0, LAMB lr 4e-3, wd 0.05 unchanged;
# - the DeiT III pipeline at 32 px: RandomResizedCrop 32 + flip +
#   3-Augment, repeated augmentation (3 repeats); test: short side 32 ->
#   centre crop 32 (crop ratio 1.0);
# - 10 epochs, 1 warm-up epoch, as vit_tiny_digits.py.
_base_ = [
    '../_base_/models/deit3.py',
    '../_base_/datasets/digits_imagenet.py',
    '../_base_/schedules/deit3_in1k_lamb_800e.py',
    '../_base_/default_runtime_cls.py',
]

img_size = 32
embed_dims = 64
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,  # replaces the base's arch name 'small'
            embed_dims=embed_dims,
            num_layers=12,
            num_heads=4,
            feedforward_channels=2 * embed_dims),
        img_size=img_size,
        patch_size=8,  # as configs/demo/vit_tiny_digits.py
        drop_path_rate=0.05),
    head=dict(num_classes=10, in_channels=embed_dims))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.08, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ThreeAugment', color_jitter=0.3),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=img_size,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='RepeatAugSampler', num_repeats=3, shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 25  # as configs/demo/vit_tiny_digits.py
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 4e-3,
        by_epoch=True,
        end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
