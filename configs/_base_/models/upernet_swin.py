# UperNet on a Swin backbone (mmseg's ``upernet_swin`` layout) with the
# backbone built from mmpretrain's SwinTransformer so that checkpoints written
# by this suite's pretraining load with ``prefix='backbone.'``: the 4 stages
# feed UPerHead directly; auxiliary FCNHead on stage 3.
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
        type='mmpretrain.SwinTransformer',
        arch='base',
        img_size=224,
        patch_size=4,
        window_size=7,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        use_abs_pos_embed=False),
    decode_head=dict(
        type='UPerHead',
        in_channels=[128, 256, 512, 1024],
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
        in_channels=512,
        in_index=2,
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
