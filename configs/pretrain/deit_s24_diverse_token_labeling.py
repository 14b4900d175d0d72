# DeiT-S24 with the patch-diversification losses (Gong et al. 2021) AND token
# labeling + MixToken (Jiang et al. 2021) in one model:
#   L = L_cls + a1 L_cos + a2 L_contrastive + a3 L_mixing + beta L_token.
# Data, schedule and token-label settings: deit_s_token_labeling.py; loss
# weights of the diversification terms: deit_s24_diverse.py (see there why).
#
# MixToken replaces PatchMixing: it mixes a box of tokens after the patch
# embedding (for DeiT's non-overlapping 16 px patches this is exactly patch
# CutMix) and records each token's source image, which the patch-mixing loss
# uses as its per-patch target (image-level augments are refused because
# they would not mix the token labels).
_base_ = './deit_s_token_labeling.py'

model = dict(
    backbone=dict(arch=dict(num_layers=24)),
    cosine_loss=dict(type='PatchCosineLoss', loss_weight=0.1),
    contrastive_loss=dict(
        type='PatchContrastiveLoss', loss_weight=1.0, temperature=1.0),
    mixing_loss=dict(type='PatchMixingLoss', loss_weight=1.0),
    first_layer='embed')
