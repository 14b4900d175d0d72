# Demo of patch diversification: vit_tiny_digits.py (12-block ViT, dim 64,
# patch 4, 32 px digits) with the losses of pretrain/deit_s24_diverse.py.
# Only the model type and the loss settings change (PatchMixing replaces
# CutMix in the Mixup/CutMix switch, on the 4 px patch grid).
#
# Loss weights, same as the full-size configs:
# - cosine 0.1: the setting measured in methods.md is this demo's (ViT-12,
#   patch 4, 32 px digits): weight 1.0 collapsed top-1 to 0.21-0.48 while
#   0.1 was best (0.844 vs 0.811 baseline, seed 0) and 0.3 worse (0.771).
# - contrastive 1.0, mixing 1.0: the released code's weights, not swept
#   here; the contrastive term is bounded (unit vectors, t = 1).
_base_ = './vit_tiny_digits.py'

model = dict(
    type='DiverseImageClassifier',
    cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
    contrastive_loss=dict(
        type='PatchContrastiveLoss', loss_weight=1.0, temperature=1.0),
    mixing_loss=dict(type='PatchMixingLoss', loss_weight=1.0),
    first_layer='embed',
    # The baseline demo trains without Mixup/CutMix (they kept the tiny ViT
    # at chance); the mixing loss needs PatchMixing, on the 8 px patch grid.
    train_cfg=dict(augments=[
        dict(type='PatchMixing', alpha=1.0, patch_size=8),
    ]))
