# DeiT-S (12 blocks, dim 384) trained with token labeling and MixToken
# (Jiang et al. 2021, ablation on DeiT-S): the lvvit_s_token_labeling.py
# recipe (data, schedule, losses) with mmpretrain's plain VisionTransformer.
# Baseline anchor: DeiT-S 79.8 top-1 (Touvron et al. 2021). The token
# labeling paper reports gains on DeiT-S in its ablations; no target number
# is assumed here: measure and report.
_base_ = './lvvit_s_token_labeling.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch=dict(  # DeiT-S (mmpretrain's 'deit-small')
            embed_dims=384,
            num_layers=12,
            num_heads=6,
            feedforward_channels=1536),
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1))
