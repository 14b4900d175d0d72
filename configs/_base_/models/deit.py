# DeiT classifier (Touvron et al. 2021) on mmpretrain's VisionTransformer:
# a plain ViT with class token, linear head on the (final-normed) class token,
# label smoothing 0.1 and Mixup 0.8 / CutMix 1.0 (switched per batch, as in
# timm's ``--mixup 0.8 --cutmix 1.0 --mixup-switch-prob 0.5``).
# ``arch`` is DeiT-S here; full configs override it (e.g. 24 blocks).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=dict(  # DeiT-S (mmpretrain's 'deit-small')
            embed_dims=384,
            num_layers=12,
            num_heads=6,
            feedforward_channels=1536),
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
    ),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ],
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]),
)
