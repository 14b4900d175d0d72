# 64x64 digit scenes in the ADE20K layout as the seg demos' stand-in for
# ADE20K (``data/digits/ade/ADEChallengeData2016``, written by
# tools/prepare_digits.py; masks store 0 = unlabelled, 1 = background,
# 2 + d = digit d; ``reduce_zero_label=True``, as for ADE20K, gives the 11
# classes, 255 = ignore). ADE20K's pipeline with every size divided by 8
# (crop 512 -> 64, resize 2048x512 -> 256x64), CheckSegAnnotation kept.
# Dropped: RandomResize (the scenes hold digits at the pretraining scale, on
# the token grid; rescaled 0.5-2x they no longer fit the tiny backbones'
# tokens) and RandomFlip (a mirrored digit is another glyph). One process x
# 8 images a step.
#
# Why new names (``digits_ade20k_*``): each seg demo inherits its full
# recipe (configs/seg/*.py), and mmengine 0.10.7 refuses a key defined by
# two bases ("Duplicate key is not allowed among bases"), so this file
# defines only names no recipe defines; a demo lists it next to its recipe
# and sets ``train_dataloader = _base_.digits_ade20k_train_dataloader`` etc.
# The ``digits_ade20k_*`` entries also stand at the top of the demo's
# resolved dict (nothing reads them there); ``__`` names are this file's own.
num_classes = 11
__crop_size = (64, 64)
digits_ade20k_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=num_classes),
    dict(type='RandomCrop', crop_size=__crop_size, cat_max_ratio=0.75),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
digits_ade20k_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=num_classes),
    dict(type='PackSegInputs')
]
__dataset = dict(
    type='DigitScenesADE20KDataset',
    data_root='data/digits/ade/ADEChallengeData2016',
    reduce_zero_label=True)
digits_ade20k_train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(__dataset, pipeline=digits_ade20k_train_pipeline))
digits_ade20k_val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(__dataset, pipeline=digits_ade20k_test_pipeline))
