# UperNet + DeiT-S24 on ADE20K (512x512, 160k iterations, 16 images/batch).
# Backbone: this suite's own DeiT-S24 ImageNet-1k checkpoint
# (configs/pretrain/deit_s24.py), loaded into mmpretrain's VisionTransformer
# with ``prefix='backbone.'``; features from blocks 6/12/18/24.
# Reference points (mmseg, 12-block DeiT-S UperNet+MLN, 160k): 43.8 / 43.8 ms
# mIoU; see README for this suite's runs.
# Layer-wise lr decay is not used: mmseg's LayerDecayOptimizerConstructor only
# accepts BEiT/MAE/ConvNeXt backbone classes (NotImplementedError for
# VisionTransformer) and mmpretrain's LearningRateDecayOptimWrapperConstructor
# needs ``get_layer_depth`` on the top-level model, which EncoderDecoder lacks.
# mmseg's own DeiT/ViT UperNet recipes also use plain AdamW.
_base_ = [
    '../_base_/models/upernet_vit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/seg_ade20k_160k.py',
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

# 8 GPUs x 2 images.
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
