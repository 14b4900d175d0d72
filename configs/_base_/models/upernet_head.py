# The UperNet part shared by upernet_swin.py and upernet_vit.py (mmseg's
# ``upernet`` layout): UPerHead (pool scales 1,2,3,6; 512 channels) over 4
# feature levels + auxiliary FCNHead (256 channels, loss weight 0.4), SyncBN,
# ImageNet normalisation, 150 classes (ADE20K) until a config says otherwise.
# The backbone (and neck), the heads' ``in_channels`` and the auxiliary
# head's ``in_index`` come from the file that inherits this one.
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
    decode_head=dict(
        type='UPerHead',
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
