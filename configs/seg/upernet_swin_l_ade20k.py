# UperNet + Swin-L on ADE20K: the DiversePatch setting (embed 192, depths
# [2,2,18,2], heads [6,12,24,48], window 12, drop path 0.3, AdamW lr 6e-5,
# wd 0.01, poly, 1500 warm-up iterations, 8 GPUs x 2 images, 160k).
# Target (Gong et al. 2021): 54.5 mIoU (abstract; 54.4 ms+flip in the
# released README) vs mmseg's Swin-L 22k-384 UperNet 52.25 / 54.12.
# mmseg's own Swin-L recipe is inherited whole; only the backbone is swapped
# to mmpretrain's SwinTransformer so this suite's checkpoints
# (configs/pretrain/swin_l.py) load with ``prefix='backbone.'`` unconverted.
_base_ = ('mmseg::swin/swin-large-patch4-window12-in22k-384x384-pre_'
          'upernet_8xb2-160k_ade20k-512x512.py')

pretrained = 'work_dirs/swin_l/epoch_30.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformer',
        arch='large',
        img_size=384,
        patch_size=4,
        window_size=12,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        use_abs_pos_embed=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
