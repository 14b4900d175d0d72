# Stand-in for ADE20K: 64x64 digit scenes in the ADE20K layout
# (``data/digits/ade/ADEChallengeData2016``). Masks store 0 = unlabelled,
# 1 = background, 2 + d = digit d; ``reduce_zero_label=True`` (as for ADE20K)
# gives 11 classes (0 = background, 1 + d = digit d) and 255 = ignore.
# Same pipeline as ``ade20k.py`` with every size divided by 8 (512 -> 64,
# 2048 -> 256), minus two steps the digits cannot take: RandomResize (the
# scenes hold digits at the pretraining scale, on the token grid; rescaled
# 0.5-2x the tiny ViT's tokens no longer fit them) and RandomFlip (a mirrored
# digit is another glyph).
_base_ = './ade20k.py'

dataset_type = 'DigitScenesADE20KDataset'
data_root = 'data/digits/ade/ADEChallengeData2016'
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=11),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=11),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        reduce_zero_label=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        reduce_zero_label=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
