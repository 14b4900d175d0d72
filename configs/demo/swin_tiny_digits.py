# Demo: the Swin classification recipe (configs/pretrain/swin_b.py, i.e.
# mmpretrain's swin-base_16xb64_in1k, inherited) shrunk to a tiny Swin on
# the 32 px digits stand-in: embed 32, depths [2,2,2,2], heads [1,2,4,8],
# patch 4, window 4, ``pad_small_map=True`` (the last stages are smaller
# than a window). Overrides sizes, data (the digits in place of ImageNet,
# with the same augmentations at 32/224 scale) and schedule; AdamW, wd
# 0.05, grad clip 5.0, RandAugment, random erasing, Mixup/CutMix and label
# smoothing stay. Dropped: nothing of the recipe (drop path 0.1 instead of
# 0.5 is a size: 8 blocks instead of 24).
_base_ = '../pretrain/swin_b.py'

embed_dims = 32
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=embed_dims, depths=[2, 2, 2, 2],
                  num_heads=[1, 2, 4, 8]),
        img_size=32,
        patch_size=4,
        window_size=4,
        pad_small_map=True,
        drop_path_rate=0.1),
    head=dict(num_classes=10, in_channels=8 * embed_dims))

# Data: the embedded digits (10 classes, 32 px RGB JPEGs in the ImageNet
# folder layout, written by tools/prepare_digits.py) replace ImageNet, with
# ImageNet's Swin/DeiT pipeline, every size scaled by 32/224:
# RandomResizedCrop 32, flip, RandAugment m9-mstd0.5-inc1, RandomErasing
# 0.25; test: short side 36 -> centre crop 32 (224/256 ratio).
dataset_type = 'ImageNetFolder'
data_root = 'data/digits/imagenet'
img_size = 32
digit_classes = ('zero', 'one', 'two', 'three', 'four', 'five', 'six',
                 'seven', 'eight', 'nine')  # = meta/classes.txt
data_preprocessor = dict(num_classes=len(digit_classes))
# ImageNet mean/std of the base data_preprocessor, in BGR order.
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=36,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        ann_file='meta/train.txt',
        classes=digit_classes,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='val',
        ann_file='meta/val.txt',
        classes=digit_classes,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=5.0))
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
