# ImageNet-1k at 224 px with the DeiT III pretraining data recipe (released
# ``--ThreeAugment --color-jitter 0.3 --reprob 0.0 --repeated-aug``):
# RandomResizedCrop 224 (scale 0.08-1, bicubic) + horizontal flip, then
# 3-Augment (one of grayscale / solarization / Gaussian blur, then
# ColorJitter 0.3), no RandAugment, no random erasing; repeated augmentation
# (3 repeats, mmpretrain's RepeatAugSampler).
# Test: mmpretrain's DeiT III evaluation, short side 224 -> centre crop 224
# (crop ratio 1.0, as timm's DeiT III weights).
# Everything else (ImageNet paths, normalisation, Accuracy top-1/5) comes
# from mmpretrain's DeiT III dataset file, whose RandAugment + RandomErasing
# training pipeline is replaced here.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_deit3_224.py'

img_size = 224

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

train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='RepeatAugSampler', num_repeats=3, shuffle=True))
