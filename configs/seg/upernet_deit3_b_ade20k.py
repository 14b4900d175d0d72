# UperNet + DeiT III ViT-B/16 on ADE20K (512x512, 160k iterations,
# 16 images/batch). Backbone: this suite's DeiT III ImageNet-1k checkpoint
# (configs/pretrain/deit3_b_in1k.py, 800 epochs), built as mmvitreg's
# ``mmpretrain.DeiT3ViT`` (LayerScale, position embedding without a cls
# slot) with ``out_type='featmap'``; features from blocks 3/6/9/12 ->
# MultiLevelNeck -> UPerHead (configs/_base_/models/upernet_vit.py).
# Drop path 0.1 rising linearly over depth, as the other ViT UperNet configs
# (the constant-rate DeiT III schedule is a pretraining choice).
# Optimiser: mmseg's BEiT-B UperNet recipe for 12 blocks
# (configs/_base_/schedules/seg_ade20k_160k_layer_decay.py): AdamW lr 3e-5,
# weight decay 0.05 (none for 1-D params, incl. LayerScale, pos_embed and
# cls_token), layer_decay_rate 0.9: block i trains at lr * 0.9 ** (12 - i),
# the patch embedding at lr * 0.9 ** 13 = 0.25 lr.
_base_ = [
    '../_base_/models/upernet_vit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/schedules/seg_ade20k_160k_layer_decay.py',
    '../_base_/default_runtime_seg.py',
]

pretrained = 'work_dirs/deit3_b_in1k/epoch_800.pth'
embed_dims = 768
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.DeiT3ViT',
        arch='b',
        img_size=crop_size,
        patch_size=16,
        out_indices=(2, 5, 8, 11),
        drop_path_rate=0.1,
        drop_path_mode='linear',
        out_type='featmap',
        final_norm=False,
        with_cls_token=True,
        interpolate_mode='bicubic',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, num_classes=150),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=150))

# Batch: 8 GPUs x 2 images = 16 per step (mmseg's 8xb2 ADE20K configs),
# set with ``num_gpus`` and ``auto_scale_lr`` in ../_base_/datasets/ade20k.py.

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
