# DeiT-S24: DeiT-S width (embed 384, 6 heads, MLP 1536) with 24 blocks,
# ImageNet-1k, 224 px, 300 epochs, the DeiT recipe (facebookresearch/deit
# main.py defaults: AdamW 5e-4 x batch / 512, wd 0.05, 5 warm-up epochs,
# cosine, label smoothing 0.1, Mixup 0.8 / CutMix 1.0, RandAugment
# rand-m9-mstd0.5-inc1, random erasing 0.25, repeated augmentation x3).
# Target (Gong et al. 2021, "Vision Transformers with Patch
# Diversification", Table 1): baseline DeiT-S24 80.3 top-1; with the
# patch-diversification losses 82.2 (see diverse_* configs).
# EMA: deit's main.py keeps a model EMA by default (``model_ema=True``,
# decay 0.99996) but evaluates, checkpoints as "model" and reports the raw
# model; this config keeps no EMA, i.e. it trains and reports the same raw
# weights.
_base_ = [
    '../_base_/models/deit.py',
    '../_base_/datasets/imagenet.py',
    '../_base_/schedules/deit_in1k_300e.py',
    '../_base_/default_runtime_cls.py',
]

model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=384,
            num_layers=24,
            num_heads=6,
            feedforward_channels=1536),
        drop_path_rate=0.1),
    head=dict(in_channels=384))

# 8 GPUs x 128 = 1024 images per step (lr 1e-3 in the schedule).
# Repeated augmentation, 3 repeats: DeiT's default (facebookresearch/deit
# main.py, ``parser.set_defaults(repeated_aug=True)``, RASampler);
# mmpretrain's RepeatAugSampler is the same sampler.
train_dataloader = dict(
    batch_size=128,
    sampler=dict(type='RepeatAugSampler', num_repeats=3, shuffle=True))

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
