# Swin-B + patch diversification (Gong et al. 2021): the swin_b.py recipe
# with L = L_cls + a1 L_cos + a2 L_contrastive + a3 L_mixing on the last
# stage's 7x7 tokens; the contrastive "first layer" is the patch-embedding
# output average-pooled to the last stage's grid (and zero-padded to its
# channels, an isometry).
# Target (paper, Table 2): 83.4 -> 83.7 top-1.
#
# Loss weights (the paper's text gives none; choose by a sweep and report):
# - cosine 0.1: measured here (methods.md, ViT-12 on digits) weight 1.0
#   collapsed top-1 (0.21-0.48), 0.1 was best (0.844 vs 0.811 baseline).
# - contrastive 1.0 and mixing 1.0: not swept; the released code's weight.
# - Controlled ablation (benchmarks/results/ablation/: demo ViT on digits,
#   15 epochs, 3 seeds, paired 95% intervals): cosine 0.03 / 0.1 / 0.3 all
#   cut the last-layer patch similarity (0.51 -> 0.17 / 0.01 / -0.05,
#   intervals exclude 0), none gave a top-1 gain whose interval excludes 0,
#   and 0.1 was the least stable (one seed at 35.7%): the three weights are
#   indistinguishable there, so 0.1 stays. Contrastive 1.0: +36.4
#   [-6.0, +78.8] top-1 over the baseline; mixing 1.0: +47.5 [+12.9, +82.2]
#   over its PatchMixing control (only weight 1.0 was run for both).
#
# PatchMixing replaces CutMix in the Mixup/CutMix switch, on a 32 px grid =
# the stride of Swin's last stage, so each last-stage token has one source.
_base_ = './swin_b.py'

model = dict(
    type='DiverseImageClassifier',
    cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
    contrastive_loss=dict(
        type='PatchContrastiveLoss', loss_weight=1.0, temperature=1.0),
    mixing_loss=dict(type='PatchMixingLoss', loss_weight=1.0),
    first_layer='embed',
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='PatchMixing', alpha=1.0, patch_size=32),
    ]))
