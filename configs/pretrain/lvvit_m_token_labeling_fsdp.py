# LV-ViT-M with token labeling and MixToken (lvvit_m_token_labeling.py,
# unchanged recipe: AdamW, 8 GPUs x 128, EMA 0.99992) trained with FSDP
# (configs/_base_/strategies/fsdp.py): parameters, gradients and AdamW
# moments sharded over the ranks. AdamW is element-wise, so sharding does
# not change its update; the no-decay rules (biases, norms, 1-D parameters,
# cls_token, pos_embed) are applied to the real shapes because the strategy
# builds the optimizer before sharding.
# The recipe's model EMA runs as ShardedEMAHook (mmengine's EMAHook would
# average and save one rank's slices; the runner refuses it under FSDP):
# same momentum, same checkpoint layout as the DDP run's (state_dict = EMA
# weights, ema_state_dict = trained weights).
#   tools/dist_train.sh configs/pretrain/lvvit_m_token_labeling_fsdp.py 8
_base_ = ['./lvvit_m_token_labeling.py', '../_base_/strategies/fsdp.py']

custom_hooks = [
    dict(type='ShardedEMAHook', momentum=8e-5, priority='ABOVE_NORMAL')
]
