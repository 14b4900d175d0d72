# Demo: the machine annotator of token labeling (methods.md section 2), a
# narrow CIFAR-style ResNet-18 trained on the 32 px digits. LV-ViT's
# annotator is an NFNet-F6 (86.3% ImageNet top-1) applied densely at 576 px;
# here a CNN at the demo's scale plays that role: stride 8 gives a 4x4 map
# for a 32 px image, the same grid as the tiny ViTs' 8 px patches, and
# tools/generate_token_labels.py applies its linear head at every location.
#
# Recipe: mmpretrain's CIFAR ResNet (resnet18_cifar: 3x3 stem, no max-pool,
# GAP + linear head) at base width 8 instead of 64 (1/64 of the FLOPs), SGD
# lr 0.1 momentum 0.9 wd 5e-4, cosine, 12 epochs; the ViT demos' mild crop.
# Measured on an idle 2-core machine: 99.4% top-1 in 41 s (width 16, 20
# epochs: the same 99.4% in 85 s).
_base_ = [
    'mmpretrain::_base_/models/resnet18_cifar.py',
    '../_base_/datasets/digits_imagenet.py',
    '../_base_/default_runtime_cls.py',
]

width = 8
model = dict(
    backbone=dict(stem_channels=width, base_channels=width),
    head=dict(in_channels=8 * width))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, num_workers=2)
test_dataloader = val_dataloader

max_epochs = 12
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, eta_min=0.)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
