# ImageNet-21k at 224 px with the DeiT III pretraining data recipe for
# ImageNet-21k (released ``--ThreeAugment --src --color-jitter 0.3
# --reprob 0.0 --no-repeated-aug``): Simple Random Crop (short side -> 224,
# reflect-pad 4, random 224 crop) + horizontal flip, then 3-Augment.
# Data set, paths (``data/imagenet21k``, ``meta/train.txt``) and
# normalisation from mmpretrain's ``ImageNet21k`` dataset file (21842
# classes); it has no validation split, so no validation loop.
_base_ = 'mmpretrain::_base_/datasets/imagenet21k_bs128.py'

img_size = 224

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='SimpleRandomCrop',
        scale=img_size,
        padding=4,
        padding_mode='reflect',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ThreeAugment', color_jitter=0.3),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))

val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
