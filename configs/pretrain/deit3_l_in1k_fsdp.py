# DeiT III ViT-L/16 (deit3_l_in1k.py, unchanged recipe) trained with FSDP:
# parameters, gradients and LAMB moments sharded over the ranks
# (configs/_base_/strategies/fsdp.py). Use it where the DDP config does not
# fit: ViT-L holds 304M parameters, i.e. 1.2 GB weights + 1.2 GB gradients
# + 2.4 GB LAMB moments per GPU under DDP, /N under FSDP (plus the block or
# two being gathered).
# The one change to the recipe's objects: LAMB becomes ``ShardedLamb``, the
# same update with the gradient norm and each parameter's trust-ratio norms
# summed over all ranks' shards (mmpretrain's ``Lamb`` would take them on
# the local shard and change with the number of GPUs; the strategy refuses
# it). Same 32 GPUs x 64 = 2048 images per step as the released command:
#   tools/dist_train.sh configs/pretrain/deit3_l_in1k_fsdp.py 8  (x 4 nodes)
# Checkpoints are full state dicts: fine-tune, test or transfer them as the
# DDP run's.
_base_ = ['./deit3_l_in1k.py', '../_base_/strategies/fsdp.py']

optim_wrapper = dict(optimizer=dict(type='ShardedLamb'))
