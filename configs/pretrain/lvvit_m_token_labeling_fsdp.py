# LV-ViT-M with token labeling and MixToken (lvvit_m_token_labeling.py,
# unchanged recipe: AdamW, 8 GPUs x 128) trained with FSDP
# (configs/_base_/strategies/fsdp.py): parameters, gradients and AdamW
# moments sharded over the ranks. AdamW is element-wise, so sharding does
# not change its update; the no-decay rules (biases, norms, 1-D parameters,
# cls_token, pos_embed) are applied to the real shapes because the strategy
# builds the optimizer before sharding.
#   tools/dist_train.sh configs/pretrain/lvvit_m_token_labeling_fsdp.py 8
_base_ = ['./lvvit_m_token_labeling.py', '../_base_/strategies/fsdp.py']
