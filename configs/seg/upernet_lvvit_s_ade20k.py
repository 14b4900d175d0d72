# UperNet + LV-ViT-S on ADE20K (512x512, 160k iterations, 16 images/batch).
# Backbone: this suite's token-labeling LV-ViT-S checkpoint
# (configs/pretrain/lvvit_s_token_labeling.py), built as mmvitreg's
# ``mmpretrain.LVViT`` (16 blocks, dim 384, convolutional patch stem,
# residual scaling 1/2) with ``out_type='featmap'``; features from blocks
# 4/8/12/16 -> MultiLevelNeck -> UPerHead, as the DeiT UperNet configs.
# Reference point (token-labeling README, UperNet LV-ViT-S, 160k): 47.9 /
# 48.6 ms+flip mIoU.
# Optimiser: layer-wise lr decay as upernet_deit_s24_ade20k.py (depth from
# LVViT's get_layer_depth: the convolutional stem is part of patch_embed,
# depth 0), with the values of the mmseg recipe nearest in depth to 16
# blocks, BEiT-B's (12 blocks): AdamW lr 3e-5, layer_decay_rate 0.9, so the
# patch embedding trains at lr * 0.9 ** 17 = 0.17 lr.
_base_ = './upernet_deit_s24_ade20k.py'

# A released LV-ViT-S instead (zihangJiang/TokenLabeling,
# lvvit_s-26M-224-83.3.pth.tar): convert it once and point init_cfg at it:
#   python tools/convert_checkpoint.py lvvit_s-26M-224-83.3.pth.tar \
#       work_dirs/lvvit_s_release_512.pth --img-size 512
#   python tools/train.py configs/seg/upernet_lvvit_s_ade20k.py \
#       --cfg-options \
#       model.backbone.init_cfg.checkpoint=work_dirs/lvvit_s_release_512.pth
# (detected as `--type lvvit`: stem conv1/bn1/... -> stem.0/1/..., blocks
# -> layers, head/aux_head dropped, pos_embed 14x14 -> 32x32; the release's
# final norm is reported unexpected since final_norm=False here. Add
# --trust-checkpoint if the file pickles its training args.)
pretrained = 'work_dirs/lvvit_s_token_labeling/epoch_300.pth'
embed_dims = 384
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.LVViT',
        arch='s',
        img_size=(512, 512),
        patch_size=16,
        out_indices=(3, 7, 11, 15),
        drop_path_rate=0.1,
        out_type='featmap',
        final_norm=False,
        with_cls_token=True,
        interpolate_mode='bicubic',
        # the convolutional stem's BN synchronised like the heads' norms
        stem_norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4),
    auxiliary_head=dict(in_channels=embed_dims))

optim_wrapper = dict(
    optimizer=dict(lr=3e-5), paramwise_cfg=dict(layer_decay_rate=0.9))

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
