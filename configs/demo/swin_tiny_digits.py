# Demo: the Swin classification recipe (configs/pretrain/swin_b.py, i.e.
# mmpretrain's swin-base_16xb64_in1k, inherited) shrunk to a tiny Swin on
# the 32 px digits stand-in: embed 32, depths [2,2,2,2], heads [1,2,4,8],
# patch 4, window 4, ``pad_small_map=True`` (the last stages are smaller
# than a window). Overrides sizes, data (the digits in place of ImageNet,
# with the same augmentations at 32/224 scale) and schedule; AdamW, wd
# 0.05, grad clip 5.0, RandAugment, random erasing, Mixup/CutMix and label
# smoothing stay. Dropped: nothing of the recipe (drop path 0.1 instead of
# 0.5 is a size: 8 blocks instead of 24).
_base_ = [
    '../pretrain/swin_b.py',
    '../_base_/datasets/digits_imagenet_splits.py',
]

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

# Data: the embedded digits replace ImageNet, with ImageNet's Swin/DeiT
# pipeline, every size scaled by 32/224 (both from
# ../_base_/datasets/digits_imagenet_splits.py): RandomResizedCrop 32, flip,
# RandAugment m9-mstd0.5-inc1, RandomErasing 0.25; test: short side 36 ->
# centre crop 32 (224/256 ratio).
dataset_type = 'ImageNetFolder'
img_size = 32
data_preprocessor = dict(num_classes=len(_base_.digit_classes))
train_pipeline = _base_.digits_randaug_train_pipeline
test_pipeline = _base_.digits_test_pipeline
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_base_.digits_train_set, _delete_=True,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_base_.digits_val_set, _delete_=True,
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
