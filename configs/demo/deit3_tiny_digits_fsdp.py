# Demo/test: configs/demo/deit3_tiny_digits.py (tiny DeiT III, LAMB) under
# FSDP exactly as configs/pretrain/deit3_l_in1k_fsdp.py sets it up
# (FlexibleRunner, RecipeFSDPStrategy, one FSDP unit per block, full
# checkpoints, ShardedLamb). On a CPU machine it runs with gloo:
#   PORT=29500 tools/dist_train.sh configs/demo/deit3_tiny_digits_fsdp.py 2
# tests/engine/test_fsdp.py checks that 2 FSDP processes give the weights
# of 2 DDP processes and resume bit-exactly.
_base_ = ['./deit3_tiny_digits.py', '../_base_/strategies/fsdp.py']

optim_wrapper = dict(optimizer=dict(type='ShardedLamb'))
