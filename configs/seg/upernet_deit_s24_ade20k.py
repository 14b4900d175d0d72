# UperNet + DeiT-S24 on ADE20K (512x512, 160k iterations, 16 images/batch).
# Backbone: this suite's own DeiT-S24 ImageNet-1k checkpoint
# (configs/pretrain/deit_s24.py), loaded into mmpretrain's VisionTransformer
# with ``prefix='backbone.'``; features from blocks 6/12/18/24.
# Reference point (mmseg configs/vit/metafile.yaml,
# vit_deit-s16_mln_upernet_8xb2-160k_ade20k-512x512, 12-block DeiT-S
# UperNet+MLN, 160k): 43.82 / 45.07 ms+flip mIoU; see README for this
# suite's runs.
# Optimiser: layer-wise lr decay (configs/_base_/schedules/
# seg_ade20k_160k_layer_decay.py: BEiT's rule, weight decay 0.05 except for
# 1-D params / pos_embed / cls_token) with the values of mmseg's 24-block
# BEiT-L UperNet recipe: AdamW lr 2e-5, layer_decay_rate 0.95, so block i
# (0-based) of 24 trains at lr * 0.95 ** (24 - i) and the patch embedding at
# lr * 0.95 ** 25 = 0.28 lr (BEiT-B, 12 blocks at 0.9: 0.25 lr). BEiT-L
# takes 16 images per optimiser step (8 GPUs x 1, 2 accumulation steps), as
# here; its 3000-iteration warm-up is 1500 optimiser steps, as here; its 160k
# iterations are 80k steps, while this config keeps 160k steps like the
# other ADE20K configs.
_base_ = [
    '../_base_/models/upernet_vit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/seg_ade20k_160k_layer_decay.py',
    '../_base_/default_runtime_seg.py',
]

pretrained = 'work_dirs/deit_s24/epoch_300.pth'
embed_dims = 384
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=24,
            num_heads=6,
            feedforward_channels=4 * embed_dims),
        img_size=crop_size,
        out_indices=(5, 11, 17, 23),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, num_classes=150),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=150))

# Batch: 8 GPUs x 2 images = 16 per step (mmseg's 8xb2 ADE20K configs),
# set with ``num_gpus`` and ``auto_scale_lr`` in ../_base_/datasets/ade20k.py.

optim_wrapper = dict(
    optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95))

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
