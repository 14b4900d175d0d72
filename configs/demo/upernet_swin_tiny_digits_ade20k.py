# Demo: the UperNet-Swin recipe (configs/seg/upernet_swin_b_ade20k.py,
# inherited) with the tiny Swin of swin_tiny_digits.py on the 64 px
# ADE20K-layout digit scenes (11 classes). Overrides sizes, data, norm type
# (BN for SyncBN), pretrained path and schedule; UperNet + FCN auxiliary
# head, AdamW (wd 0.01, none on norms and position tables), linear warm-up +
# poly stay.
_base_ = [
    '../seg/upernet_swin_b_ade20k.py',
    '../_base_/datasets/digit_scenes_ade20k.py',  # num_classes, loaders
]

# The main job does not pretrain Swin: this is what
# `tools/train.py configs/demo/swin_tiny_digits.py` writes (10 epochs).
pretrained = 'work_dirs/swin_tiny_digits/epoch_10.pth'
embed_dims = 32
channels = 64
num_classes = _base_.num_classes  # 11: background + 10 digits
# CPU runs have no process group: plain BN instead of SyncBN.
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=embed_dims, depths=[2, 2, 2, 2],
                  num_heads=[1, 2, 4, 8]),
        img_size=64,
        patch_size=4,
        window_size=4,
        pad_small_map=True,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    decode_head=dict(
        in_channels=[embed_dims * 2**i for i in range(4)],
        channels=channels,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=embed_dims * 4,
        channels=channels // 2,
        num_classes=num_classes,
        norm_cfg=norm_cfg))

# Data: 64x64 digit scenes in the ADE20K layout replace ADE20K, with
# ADE20K's pipeline at 1/8 scale (../_base_/datasets/digit_scenes_ade20k.py
# gives the pipelines, the loaders and what each change is for).
dataset_type = 'DigitScenesADE20KDataset'
data_root = 'data/digits/ade/ADEChallengeData2016'
train_pipeline = _base_.digits_ade20k_train_pipeline
test_pipeline = _base_.digits_ade20k_test_pipeline
# one process x 8 images (``--auto-scale-lr`` rescales from this batch)
num_gpus = 1
train_dataloader = _base_.digits_ade20k_train_dataloader
auto_scale_lr = dict(base_batch_size=8)
val_dataloader = _base_.digits_ade20k_val_dataloader
test_dataloader = val_dataloader

max_iters = 300
warmup_iters = 30
optim_wrapper = dict(optimizer=dict(lr=1e-3))
# the recipe's linear warm-up (from 1e-3 of lr here) and poly decay
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)
