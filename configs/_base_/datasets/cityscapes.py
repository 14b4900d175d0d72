# Cityscapes, 19 classes (labelTrainIds), 512x1024 crops (mmseg's own recipe).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'

# mmseg's pipelines, plus CheckSegAnnotation right after LoadAnnotations:
# an annotation whose size differs from its image's, or with ids outside
# the 19 classes (255 = ignore), fails naming the file.
crop_size = (512, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=19),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=19),
    dict(type='PackSegInputs')
]
# 4 GPUs x 2 images = 8 per step: mmseg's UperNet Cityscapes convention
# (configs/upernet/upernet_r101_4xb2-80k_cityscapes-512x1024.py, 4xb2; 2 per
# GPU is mmseg's file's batch). ``--auto-scale-lr`` rescales lr from this
# total. Validation and test: one image per GPU (mmseg's file).
num_gpus = 4
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=8)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
