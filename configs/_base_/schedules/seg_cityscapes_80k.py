# Cityscapes schedule: the ADE20K transformer recipe (AdamW 6e-5, wd 0.01,
# 1500 warm-up iterations, poly) over 80k iterations, evaluated and saved
# every 8k (mmseg's ``schedule_80k`` loop settings).
_base_ = './seg_ade20k_160k.py'

max_iters = 80000
warmup_iters = 1500
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=warmup_iters,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
