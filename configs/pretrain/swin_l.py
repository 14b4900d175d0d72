# Swin-L (embed 192, depths [2,2,18,2], heads [6,12,24,48]) fine-tuned on
# ImageNet-1k at 384 px with window 12 from an ImageNet-22k checkpoint, the
# setting of the paper's Swin-L number and of the UperNet Swin-L backbone.
# Target (Gong et al. 2021, Table 2): 22k-pretrained Swin-L 87.3 top-1
# baseline, 87.4 with the patch-diversification losses.
# mmpretrain's 384 px Swin-L config is evaluation-only (plain CE, no
# augmentation); the fine-tuning recipe below is the Swin paper's
# (Appendix A2: 30 epochs, batch 1024, AdamW, constant lr 1e-5, weight decay
# 1e-8) with the ImageNet-1k augmentations of the 224 px recipe.
# The official release trains differently
# (microsoft/Swin-Transformer configs/swin/
# swin_large_patch4_window12_384_22kto1k_finetune.yaml + main.py): BASE_LR
# 2e-5 scaled by total batch / 512 (4e-5 at 1024), cosine, 5 warm-up epochs
# from WARMUP_LR 2e-8, MIN_LR 2e-7 (both scaled the same way: 4e-8 and
# 4e-7 at 1024), 30 epochs, weight decay 1e-8, drop path 0.2. This config
# follows the paper: Gong et al. compare against the paper's 87.3, and the
# paper states its recipe; for the release's, set
# optim_wrapper.optimizer.lr=4e-5 and a LinearLR (5 epochs from 1e-3 x lr)
# + CosineAnnealingLR(eta_min=4e-7) param_scheduler.
# mmpretrain's swin_transformer/swin-large_16xb64_in1k-384px.py, restated
# from its four bases so that the runtime is this suite's
# (../_base_/default_runtime_cls.py: mmvitreg registration, divergence guard,
# visualizer without `_scope_`) instead of mmpretrain's.
_base_ = [
    'mmpretrain::_base_/models/swin_transformer/large_384.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_384.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    '../_base_/default_runtime_cls.py',
]

# ImageNet-22k Swin-L (224 px, window 7) in mmpretrain format; the relative
# position bias tables are resized to window 12 on load.
# The 21841-way head is mapped onto the 1000 classes as Swin's own loader
# does (microsoft/Swin-Transformer utils.py ``load_pretrained``): row i of
# the 1000-way head (weight and bias) = row map[i] of the 22k head, map =
# Swin-Transformer's data/map22kto1k.txt (1000 lines, one 0-based 22k row
# per ImageNet-1k class in the usual sorted-wnid order). That table is not
# shipped here: download it next to the checkpoint (or point
# ``head_map_22k`` elsewhere); a missing file stops with its path. With
# ``load_from`` (the previous setting) the mismatched head was dropped and a
# random 1000-way head trained at the constant lr 1e-5.
pretrained_22k = 'pretrain/swin-large_in21k.pth'
head_map_22k = 'pretrain/map22kto1k.txt'

model = dict(
    init_cfg=dict(
        type='Pretrained', checkpoint=pretrained_22k, head_map=head_map_22k),
    # Activation checkpointing (mmpretrain's with_cp), switched on because
    # the published recipe does not fit in 80 GB as it stands: at 384 px and
    # 64 images per GPU the memory plan (tools/analysis/estimate_memory.py)
    # is 72.8 GiB per GPU without it (69.1 GiB saved for backward in fp32,
    # plus weights, gradients, AdamW state and DDP buckets for 197M
    # parameters), over the 72 GiB it allows on an 80 GiB card; 17.7 GiB
    # with it (14.0 GiB with --amp). The other full configs fit without it
    # (docs/recipes.md, "Estimated memory per GPU"); switch it on there with
    # model.backbone.with_cp=True (Swin, DeiT3ViT, LVViT) or mmengine's
    # activation_checkpointing (ViT).
    backbone=dict(drop_path_rate=0.2, with_cp=True),
    head=dict(
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cal_acc=False),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))

bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=384,
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
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    optimizer=dict(lr=1e-5, weight_decay=1e-8),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
