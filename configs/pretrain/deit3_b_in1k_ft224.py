# DeiT III ViT-B/16: fine-tune the 192 px pretraining (deit3_b_in1k_192.py)
# at 224 px for 20 epochs (released fine-tuning command): AdamW lr 1e-5,
# wd 0.1, 8 GPUs x 64 = 512 images, 5 warm-up epochs from 1e-6, cosine to
# 1e-5 (timm's min lr, so flat after warm-up), drop path 0.2 (constant),
# label smoothing 0.1 with Mixup 0.8 / CutMix 1.0 (cross-entropy, not BCE),
# RandomResizedCrop + flip + RandAugment rand-m9-mstd0.5-inc1, no random
# erasing, no 3-Augment, no repeated augmentation.
# Target (paper): 82.82 (192 px) -> 83.80 top-1.
#
# The whole classifier (head included, same 1000 classes) is initialised
# from the 192 px checkpoint. Its 12 x 12 position embedding is resized to
# 14 x 14 (bicubic) by the backbone's load pre-hook (mmpretrain's
# ``DeiT3._prepare_pos_embed``), which logs "Resize the pos_embed shape from
# torch.Size([1, 144, 768]) to torch.Size([1, 196, 768])"; mmvitreg's
# checked ``Pretrained`` logs matched / missing keys and fails below 90 %.
# Point ``pretrained_192`` at your checkpoint (tools/train.py's default
# work dir for the 192 px run is used here).
# Schedule: the DeiT III one (../_base_/schedules/deit3_in1k_lamb_800e.py:
# no weight decay on norms, biases, 1-D parameters, cls token and position
# embedding; 5 linear warm-up epochs, then cosine to 1e-5) with the
# fine-tuning command's optimiser, warm-up start and length below.
_base_ = [
    '../_base_/models/deit3_ce.py',  # CE + label smoothing 0.1
    'mmpretrain::_base_/datasets/imagenet_bs64_deit3_224.py',
    '../_base_/schedules/deit3_in1k_lamb_800e.py',
    '../_base_/default_runtime_cls.py',
]

pretrained_192 = 'work_dirs/deit3_b_in1k_192/epoch_800.pth'

model = dict(
    backbone=dict(arch='base', img_size=224, drop_path_rate=0.2),
    head=dict(in_channels=768),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
        dict(type='Pretrained', checkpoint=pretrained_192),
    ])

# mmpretrain's DeiT III pipeline without its RandomErasing (released
# ``--reprob 0.0``); test: short side 224 -> centre crop 224.
bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='PackInputs'),
]
# 8 GPUs x 64 = 512 images per step.
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))

# AdamW in place of LAMB (and of its in-optimizer gradient-norm clipping),
# on the schedule's parameter groups.
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(
        type='AdamW', lr=1e-5, weight_decay=0.1, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=_base_.optim_wrapper.paramwise_cfg)
# The warm-up starts at 1e-6 = lr * 0.1; cosine to 1e-5 (= lr: flat).
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / 1e-5),
    _base_.param_scheduler[1],
]
train_cfg = dict(max_epochs=20)
auto_scale_lr = dict(base_batch_size=512)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
