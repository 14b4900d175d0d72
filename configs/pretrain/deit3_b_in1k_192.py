# DeiT III ViT-B/16 low-resolution pretraining (FixRes effect, cheaper
# epochs): the deit3_b_in1k.py recipe at 192 px (12 x 12 patches), exactly
# the released ViT-B command (8 GPUs x 256, LAMB lr 3e-3, drop path 0.2,
# 800 epochs). Fine-tune at 224 px with deit3_b_in1k_ft224.py.
# Target (paper): 82.82 top-1 at 192 px, 83.80 after the 224 px fine-tune.
_base_ = './deit3_b_in1k.py'

img_size = 192

model = dict(backbone=dict(img_size=img_size))

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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=img_size,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]

# 8 GPUs x 256 = 2048 images per step (released command).
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
