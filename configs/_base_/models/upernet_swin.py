# UperNet on a Swin backbone (mmseg's ``upernet_swin`` layout) with the
# backbone built from mmpretrain's SwinTransformer so that checkpoints written
# by this suite's pretraining load with ``prefix='backbone.'``: the 4 stages
# feed UPerHead directly; auxiliary FCNHead on stage 3. Heads, segmentor
# (mmvitreg's DiverseEncoderDecoder) and data preprocessor: upernet_head.py.
_base_ = './upernet_head.py'

model = dict(
    backbone=dict(
        type='mmpretrain.SwinTransformer',
        arch='base',
        img_size=224,
        patch_size=4,
        window_size=7,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        use_abs_pos_embed=False),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512, in_index=2))
