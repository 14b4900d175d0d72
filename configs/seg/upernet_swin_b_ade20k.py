# UperNet + Swin-B on ADE20K (512x512, 160k iterations, 16 images/batch,
# AdamW 6e-5, drop path 0.3). Backbone: this suite's Swin-B ImageNet-1k
# checkpoint (configs/pretrain/swin_b.py, 224 px, window 7) in mmpretrain's
# SwinTransformer, loaded with ``prefix='backbone.'``.
# Reference point (mmseg configs/swin/metafile.yaml,
# swin-base-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512):
# 47.99 / 49.57 ms+flip mIoU (48.35 / 49.65 is the 384 px window-12 row).
_base_ = [
    '../_base_/models/upernet_swin.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/seg_ade20k_160k.py',
    '../_base_/default_runtime_seg.py',
]

pretrained = 'work_dirs/swin_b/epoch_300.pth'
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch='base',
        img_size=224,
        window_size=7,
        drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    decode_head=dict(in_channels=[128, 256, 512, 1024], num_classes=150),
    auxiliary_head=dict(in_channels=512, num_classes=150))

# Batch: 8 GPUs x 2 images = 16 per step (mmseg's 8xb2 ADE20K configs),
# set with ``num_gpus`` and ``auto_scale_lr`` in ../_base_/datasets/ade20k.py.

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
