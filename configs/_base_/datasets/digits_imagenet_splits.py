# The embedded digits (10 classes, 32 px RGB JPEGs in the ImageNet folder
# layout, written by tools/prepare_digits.py into data/digits/imagenet) as
# pieces for the classification configs that stand them in for ImageNet:
# the train/val splits without pipelines, ImageNet's Swin/DeiT train
# pipeline with every size scaled by 32/224 (RandomResizedCrop 32, flip,
# RandAugment m9-mstd0.5-inc1, RandomErasing 0.25) and the test pipeline
# (short side 36 -> centre crop 32, the 224/256 ratio).
#
# Why new names (``digits_*``) and not ``train_dataloader`` etc.: each demo
# inherits its full recipe (configs/pretrain/*.py), and mmengine 0.10.7
# refuses a key defined by two bases ("Duplicate key is not allowed among
# bases"), so this file defines only names no recipe defines. A config lists
# it next to its recipe and pulls the pieces in, e.g.
# ``dataset=dict(_base_.digits_train_set, _delete_=True, pipeline=...)``.
# The ``digits_*`` entries also stand at the top of such a config's resolved
# dict (nothing reads them there); ``__`` names are this file's own.
data_root = 'data/digits/imagenet'
digit_classes = ('zero', 'one', 'two', 'three', 'four', 'five', 'six',
                 'seven', 'eight', 'nine')  # = meta/classes.txt
__folder = dict(type='ImageNetFolder', data_root=data_root,
                classes=digit_classes)
digits_train_set = dict(__folder, data_prefix='train',
                        ann_file='meta/train.txt')
digits_val_set = dict(__folder, data_prefix='val', ann_file='meta/val.txt')

# ImageNet mean/std of the classification data_preprocessor, in BGR order.
__bgr_mean = [103.53, 116.28, 123.675]
__bgr_std = [57.375, 57.12, 58.395]
digits_randaug_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
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
            pad_val=[round(x) for x in __bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=__bgr_mean,
        fill_std=__bgr_std),
    dict(type='PackInputs'),
]
digits_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=36,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
