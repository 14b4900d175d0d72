# UperNet on a plain ViT/DeiT backbone (mmseg's ``upernet_vit-b16_ln_mln``
# layout) with the backbone built from mmpretrain's VisionTransformer so that
# checkpoints written by this suite's pretraining load with
# ``prefix='backbone.'`` and 100% of keys (no conversion):
# 4 evenly spaced blocks -> MultiLevelNeck (x4, x2, x1, x0.5) -> UPerHead
# (pool scales 1,2,3,6; 512 channels) + auxiliary FCNHead on the x0.5 level.
# Heads, segmentor (mmvitreg's DiverseEncoderDecoder) and data preprocessor:
# upernet_head.py.
_base_ = './upernet_head.py'

model = dict(
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch=dict(  # DeiT-B / ViT-B (mmpretrain's 'deit-base')
            embed_dims=768,
            num_layers=12,
            num_heads=12,
            feedforward_channels=3072),
        img_size=(512, 512),
        patch_size=16,
        out_indices=(2, 5, 8, 11),
        drop_path_rate=0.1,
        out_type='featmap',
        final_norm=False,
        with_cls_token=True,
        interpolate_mode='bicubic'),
    neck=dict(
        type='MultiLevelNeck',
        in_channels=[768, 768, 768, 768],
        out_channels=768,
        scales=[4, 2, 1, 0.5]),
    decode_head=dict(in_channels=[768, 768, 768, 768]),
    auxiliary_head=dict(in_channels=768, in_index=3))
