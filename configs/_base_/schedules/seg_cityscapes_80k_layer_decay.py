# Cityscapes schedule for plain ViT backbones: the layer-wise lr decay
# optimiser of seg_ade20k_160k_layer_decay.py (BEiT-B recipe: AdamW lr 3e-5,
# weight decay 0.05, layer_decay_rate 0.9), inherited, so both files share
# one optim_wrapper (checked by tests/engine/test_layer_decay_constructor.py),
# over the 80k loop of seg_cityscapes_80k.py, restated below as there (80k
# iterations, the same 1500 warm-up iterations, poly to 0 at 80k, evaluation
# and checkpoints every 8k).
_base_ = './seg_ade20k_160k_layer_decay.py'

max_iters = 80000
param_scheduler = [_base_.param_scheduler[0],
                   dict(_base_.param_scheduler[1], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
