# ADE20K, 150 classes, 512x512 crops (mmseg's own recipe, unchanged).
_base_ = 'mmseg::_base_/datasets/ade20k.py'

# mmseg's pipelines, plus CheckSegAnnotation right after LoadAnnotations:
# an annotation whose size differs from its image's, or with ids outside
# the 150 classes (255 = ignore), fails naming the file.
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=150),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=150),
    dict(type='PackSegInputs')
]
# 8 GPUs x 2 images = 16 per step (mmseg's 8xb2 ADE20K configs);
# ``--auto-scale-lr`` rescales lr from this total. Validation and test: one
# image per GPU (mmseg's file).
num_gpus = 8
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=16)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
