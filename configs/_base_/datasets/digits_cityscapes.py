# Stand-in for Cityscapes: 64x64 digit scenes in the Cityscapes layout
# (``data/digits/cityscapes``; ``*_labelTrainIds.png`` masks store train ids
# 0 = background, 1 + d = digit d (11 classes), 255 = ignore).
# Same pipeline as ``cityscapes.py`` with every size divided by 16 (crop
# 512x1024 -> 32x64, resize scale 2048x1024 -> 128x64), minus RandomResize
# and RandomFlip (see digits_ade20k.py).
_base_ = './cityscapes.py'

dataset_type = 'DigitScenesCityscapesDataset'
data_root = 'data/digits/cityscapes'
crop_size = (32, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=11),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=11),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
