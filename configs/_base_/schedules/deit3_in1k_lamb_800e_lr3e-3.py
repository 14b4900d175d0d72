# The DeiT III schedule (deit3_in1k_lamb_800e.py) at the ViT-B/ViT-L lr of
# 3e-3 (released commands: ``--lr 3e-3``), with the warm-up still starting
# at the released 1e-6 (``--warmup-lr 1e-6``): start factor 1e-6 / 3e-3.
# The base schedule's 1e-6 / 4e-3 is ViT-S's lr and would start B/L at
# 7.5e-7. mmengine evaluates a base file before its child, so a child that
# changes ``lr`` must rebuild the warm-up entry; this file does it once for
# deit3_b_in1k.py and deit3_l_in1k.py, from the base entries (only the
# start factor differs).
_base_ = './deit3_in1k_lamb_800e.py'

lr = 3e-3
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / lr),
    _base_.param_scheduler[1],
]
