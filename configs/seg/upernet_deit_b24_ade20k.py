# UperNet + DeiT-B24 on ADE20K (512x512, 160k iterations, 16 images/batch).
# Backbone: this suite's DeiT-B24 checkpoint (configs/pretrain/deit_b24.py);
# features from blocks 6/12/18/24. Reference point (mmseg configs/vit/
# metafile.yaml, vit_deit-b16_mln_upernet_8xb2-160k_ade20k-512x512,
# 12-block DeiT-B UperNet+MLN, 160k): 45.46 / 47.16 ms+flip mIoU.
# Optimiser as upernet_deit_s24_ade20k.py (24 blocks: BEiT-L values, AdamW
# lr 2e-5, layer_decay_rate 0.95).
_base_ = './upernet_deit_s24_ade20k.py'

pretrained = 'work_dirs/deit_b24/epoch_300.pth'
embed_dims = 768
model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=24,
            num_heads=12,
            feedforward_channels=4 * embed_dims),
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4),
    auxiliary_head=dict(in_channels=embed_dims))
