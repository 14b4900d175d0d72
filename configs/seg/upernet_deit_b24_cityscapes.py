# UperNet + DeiT-B24 on Cityscapes (19 classes, 512x1024 crops, 80k
# iterations, 8 images/batch, sliding-window inference 512x1024 stride 341).
# Same model as upernet_deit_b24_ade20k.py; mmseg has no ViT UperNet
# Cityscapes result to compare with (UperNet R-101 512x1024 80k: 79.4).
# Optimiser as upernet_deit_s24_ade20k.py: layer-wise lr decay
# (configs/_base_/schedules/seg_cityscapes_80k_layer_decay.py) with the
# 24-block BEiT-L values, AdamW lr 2e-5, layer_decay_rate 0.95.
_base_ = [
    '../_base_/models/upernet_vit.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/schedules/seg_cityscapes_80k_layer_decay.py',
    '../_base_/default_runtime_seg.py',
]

pretrained = 'work_dirs/deit_b24/epoch_300.pth'
embed_dims = 768
num_classes = 19
crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=24,
            num_heads=12,
            feedforward_channels=4 * embed_dims),
        img_size=crop_size,
        out_indices=(5, 11, 17, 23),
        drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, num_classes=num_classes),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=num_classes),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# Batch: 4 GPUs x 2 images = 8 per step (mmseg's UperNet Cityscapes 4xb2),
# set with ``num_gpus`` and ``auto_scale_lr`` in
# ../_base_/datasets/cityscapes.py.

optim_wrapper = dict(
    optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95))

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
