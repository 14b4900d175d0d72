# UperNet on a plain ViT/DeiT backbone (mmseg's ``upernet_vit-b16_ln_mln``
# layout) with the backbone built from mmpretrain's VisionTransformer so that
# checkpoints written by this suite's pretraining load with
# ``prefix='backbone.'`` and 100% of keys (no conversion):
# 4 evenly spaced blocks -> MultiLevelNeck (x4, x2, x1, x0.5) -> UPerHead
# (pool scales 1,2,3,6; 512 channels) + auxiliary FCNHead on the x0.5 level.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
# mmvitreg's DiverseEncoderDecoder: mmseg's EncoderDecoder, bit for bit,
# while `diversity_loss` is unset (the key is left out: dotted
# --cfg-options cannot extend a None). Fine-tune with the patch cosine
# loss on the backbone's last tokens (weight 0.1) with
# --cfg-options model.diversity_loss.type=PatchCosineLoss
# (and model.diversity_loss.loss_weight=W for another weight).
model = dict(
    type='DiverseEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
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
    decode_head=dict(
        type='UPerHead',
        in_channels=[768, 768, 768, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=768,
        in_index=3,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
