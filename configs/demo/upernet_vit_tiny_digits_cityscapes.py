# Demo: the UperNet-DeiT Cityscapes recipe
# (configs/seg/upernet_deit_b24_cityscapes.py) shrunk to the tiny ViT of
# vit_tiny_digits.py on the 64 px Cityscapes-layout digit scenes (11
# classes), with sliding-window inference on a window smaller than the
# image (32x64 crops, stride 21, the 512x1024 / 341 setting divided by 16).
# Same _base_ components as the full config with the digits dataset in place
# of Cityscapes; overrides only sizes, norm type, pretrained path, schedule.
_base_ = [
    '../_base_/models/upernet_vit.py',
    '../_base_/datasets/digits_cityscapes.py',
    '../_base_/schedules/seg_cityscapes_80k_layer_decay.py',
    '../_base_/default_runtime_seg.py',
]

pretrained = 'work_dirs/demo/vit_tiny_digits/epoch_25.pth'
embed_dims = 64
channels = 64
num_classes = 11
# CPU runs have no process group: plain BN instead of SyncBN.
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (32, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=12,
            num_heads=4,
            feedforward_channels=2 * embed_dims),
        img_size=crop_size,
        patch_size=8,  # as configs/demo/vit_tiny_digits.py
        out_indices=(2, 5, 8, 11),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    # 8 px patches: scales x2 ... x1/4 give the full configs' stride-4 top
    # level (16 px patches x4); x4 here would run the heads at stride 2,
    # 4x the step time (measured: 0.13 s vs 0.03 s for the backbone alone)
    neck=dict(
        in_channels=[embed_dims] * 4,
        out_channels=embed_dims,
        scales=[2, 1, 0.5, 0.25]),
    decode_head=dict(
        in_channels=[embed_dims] * 4,
        channels=channels,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=embed_dims,
        channels=channels // 2,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(21, 21)))

train_dataloader = dict(batch_size=8, num_workers=2)
val_dataloader = dict(batch_size=1, num_workers=2)
test_dataloader = val_dataloader

# As the ADE20K demo: 1,000 iterations, lr 2e-3, layer-wise lr decay 0.9
# from the base (12 blocks).
max_iters = 1000
warmup_iters = 30
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=warmup_iters,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
