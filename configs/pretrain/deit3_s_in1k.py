# DeiT III ViT-S/16, ImageNet-1k from scratch at 224 px, 800 epochs
# (released command: 8 GPUs x 256, LAMB lr 4e-3, wd 0.05, drop path 0.05
# constant, LayerScale 1e-4, 3-Augment + RandomResizedCrop + flip, Mixup 0.8
# / CutMix 1.0 with BCE, no label smoothing, repeated augmentation).
# Target (released ViT-S weights, 224 px): 81.4 top-1 on ImageNet-1k val.
# Every setting lives in the _base_ files (their defaults are ViT-S).
_base_ = [
    '../_base_/models/deit3.py',
    '../_base_/datasets/imagenet_deit3.py',
    '../_base_/schedules/deit3_in1k_lamb_800e.py',
    '../_base_/default_runtime_cls.py',
]

model = dict(
    backbone=dict(arch='small', drop_path_rate=0.05),
    head=dict(in_channels=384))

# 8 GPUs x 256 = 2048 images per step.
train_dataloader = dict(batch_size=256)
optim_wrapper = dict(optimizer=dict(lr=4e-3))

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
