# Demo: the Swin classification recipe (configs/pretrain/swin_b.py, i.e.
# mmpretrain's swin-base_16xb64_in1k) shrunk to a tiny Swin on the 32 px
# digits stand-in: embed 32, depths [2,2,2,2], heads [1,2,4,8], patch 4,
# window 4, ``pad_small_map=True`` (the last stages are smaller than a
# window). Same _base_ components as mmpretrain's Swin-B config with the
# digits dataset in place of ImageNet; overrides only sizes and schedule.
_base_ = [
    '../_base_/models/swin.py',
    '../_base_/datasets/digits_imagenet.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    '../_base_/default_runtime_cls.py',
]

embed_dims = 32
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=embed_dims, depths=[2, 2, 2, 2],
                  num_heads=[1, 2, 4, 8]),
        img_size=32,
        patch_size=4,
        window_size=4,
        pad_small_map=True,
        drop_path_rate=0.1),
    head=dict(num_classes=10, in_channels=8 * embed_dims))

train_dataloader = dict(batch_size=32, num_workers=2)
val_dataloader = dict(batch_size=128, num_workers=2)
test_dataloader = val_dataloader

max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
