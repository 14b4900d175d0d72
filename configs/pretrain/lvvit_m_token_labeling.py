# LV-ViT-M with token labeling and MixToken (Jiang et al. 2021): the
# lvvit_s_token_labeling.py recipe with the M backbone (20 layers, dim 512,
# 8 heads) and drop path 0.2 (released README "Training", LV-ViT-M command:
# ``--model lvvit_m -b 128 ... --drop-path 0.2 ... --model-ema``, 8 GPUs;
# everything else as LV-ViT-S, EMA included).
# Target (released README): 84.0 top-1 at 224 (55.83M params with the dense
# head); 85.4 after fine-tuning at 384.
_base_ = './lvvit_s_token_labeling.py'

model = dict(
    backbone=dict(arch='m', drop_path_rate=0.2),
    head=dict(in_channels=512),
    dense_head=dict(in_channels=512))
