# DeiT-B24: DeiT-B width (embed 768, 12 heads, MLP 3072) with 24 blocks,
# ImageNet-1k, 224 px, 300 epochs, the DeiT recipe of deit_s24.py (inherited:
# AdamW 5e-4 x batch / 512, wd 0.05, 5 warm-up epochs, cosine, label
# smoothing 0.1, Mixup 0.8 / CutMix 1.0, RandAugment, random erasing 0.25,
# repeated augmentation x3, no EMA); stochastic depth 0.2 (deeper than
# DeiT-B's 0.1; the paper's exact value for B24 is not restated in its text).
# Target (Gong et al. 2021, Table 1): baseline DeiT-B24 82.1 top-1; with the
# patch-diversification losses 83.3.
# EMA: deit's main.py keeps a model EMA by default (``model_ema=True``,
# decay 0.99996) but evaluates, checkpoints as "model" and reports the raw
# model; this config keeps no EMA, i.e. it trains and reports the same raw
# weights.
_base_ = './deit_s24.py'

model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=768,
            num_layers=24,
            num_heads=12,
            feedforward_channels=3072),
        drop_path_rate=0.2),
    head=dict(in_channels=768))

# 16 GPUs x 64 = 1024 images per step (lr 1e-3 in the schedule), with
# deit_s24.py's repeated augmentation (3 repeats, DeiT's default).
train_dataloader = dict(batch_size=64)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
