# UperNet + LV-ViT-S on ADE20K (512x512, 160k iterations, 16 images/batch).
# Backbone: this suite's token-labeling LV-ViT-S checkpoint
# (configs/pretrain/lvvit_s_token_labeling.py), built as mmvitreg's
# ``mmpretrain.LVViT`` (16 blocks, dim 384, convolutional patch stem,
# residual scaling 1/2) with ``out_type='featmap'``.
# Reference point (zihangJiang/TokenLabeling README "Segmentation", UperNet
# LV-ViT-S, 160k): 47.9 / 48.6 ms+flip mIoU, from its released config
# seg/configs/lvvit/upernet_lvvit_s_512x512_160k_ade20k.py, which this
# config follows in: AdamW lr 6e-5, weight decay 0.01 on every parameter,
# no layer decay, 1500 linear warm-up iterations, poly to 0, 160k
# iterations; features from blocks (6, 9, 12, 15) (0-based); drop path
# 0.1; sliding-window test, 512x512 windows, stride 341.
# Differences, kept: the release's ViT adds a side layer giving the last
# level 2048 channels and feeds UPerHead (256 channels) without a neck;
# here the 4 levels go through MultiLevelNeck into UPerHead with 512
# channels, as the other ViT UperNet configs (../_base_/models/
# upernet_vit.py). The release sets no batch size (mmseg 0.x's ADE20K base
# it inherits: 4 per GPU, GPU count not stated) and trains with fp16; here
# 8 GPUs x 2 = 16, fp32 (``--amp`` for mixed precision).
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
        out_indices=(6, 9, 12, 15),
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
    auxiliary_head=dict(in_channels=embed_dims),
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))

# The released optimiser exactly (no paramwise settings).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=None)

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
