# DeiT III classifier (Touvron et al. 2022, "DeiT III: Revenge of the ViT"),
# ImageNet-1k pretraining recipe: ViT with LayerScale (init 1e-4) on both
# residual branches, position embedding added before the class token is
# concatenated, constant stochastic depth (mmvitreg's DeiT3ViT; mmpretrain's
# DeiT3 raises it linearly and fixes LayerScale at 1e-5), linear head on the
# final-normed class token.
# Loss: BCE on Mixup 0.8 / CutMix 1.0 targets binarised with ``target > 0``
# (ThresholdedBCELoss; released ``--bce-loss --smoothing 0.0``), Mixup and
# CutMix switched per batch.
# ``arch`` is ViT-S (drop path 0.05) here; full configs override it.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='DeiT3ViT',
        arch='small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.05,
        drop_path_mode='constant',
        layer_scale_init_value=1e-4),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(type='ThresholdedBCELoss', threshold=0.0),
    ),
    # The released ``_init_weights``: truncated normal (std 0.02) for every
    # Linear (DeiT3ViT keeps mmpretrain's Xavier FFN re-init out), LN 1 / 0.
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ],
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]),
)
