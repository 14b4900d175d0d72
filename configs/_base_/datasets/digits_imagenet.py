# Stand-in for ImageNet-1k: the embedded digits set (10 classes, 32 px RGB
# JPEGs written by ``tools/prepare_digits.py`` into ``data/digits/imagenet``).
# Same pipeline structure as ``imagenet.py`` (DeiT recipe), every size scaled
# by 32/224: RandomResizedCrop 32, flip, RandAugment m9-mstd0.5-inc1,
# RandomErasing 0.25; test: short side 36 -> centre crop 32 (224/256 ratio).
_base_ = './imagenet.py'

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
    batch_size=64,
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

# top-5 is meaningless-but-valid with 10 classes; keep the ImageNet metric.
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
