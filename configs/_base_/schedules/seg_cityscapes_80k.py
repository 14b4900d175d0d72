# Cityscapes schedule: the ADE20K transformer recipe (AdamW 6e-5, wd 0.01,
# 1500 warm-up iterations, poly) over 80k iterations, evaluated and saved
# every 8k (mmseg's ``schedule_80k`` loop settings).
_base_ = './seg_ade20k_160k.py'

max_iters = 80000
# seg_ade20k_160k.py's warm-up, unchanged, and its poly decay ending at 80k
param_scheduler = [_base_.param_scheduler[0],
                   dict(_base_.param_scheduler[1], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
