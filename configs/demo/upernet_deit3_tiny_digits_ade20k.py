# Demo transfer of the DeiT III backbone: upernet_vit_tiny_digits_ade20k.py
# (UperNet on 64 px digit scenes, 1000 iterations, layer decay) with the
# tiny DeiT3ViT of deit3_tiny_digits.py in place of the ViT, as
# configs/seg/upernet_deit3_b_ade20k.py does at full size (LayerScale,
# position embedding without a cls slot, linear drop path 0.1 for
# fine-tuning).
_base_ = './upernet_vit_tiny_digits_ade20k.py'

# What the main job (tools/demo.py --rows deit3, seed 0, 15 epochs) writes.
pretrained = 'work_dirs/demo/runs/deit3/seed0/pretrain/epoch_15.pth'
embed_dims = 64
crop_size = (64, 64)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.DeiT3ViT',
        arch=dict(
            embed_dims=embed_dims,
            num_layers=12,
            num_heads=4,
            feedforward_channels=2 * embed_dims),
        img_size=crop_size,
        patch_size=8,  # as configs/demo/deit3_tiny_digits.py
        out_indices=(2, 5, 8, 11),
        drop_path_rate=0.1,
        drop_path_mode='linear',
        out_type='featmap',
        final_norm=False,
        with_cls_token=True,
        interpolate_mode='bicubic',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
