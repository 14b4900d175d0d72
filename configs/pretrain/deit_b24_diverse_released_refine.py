# Stage 2 of the released DeiT-B patch-diversification run
# (ChengyueGongR/PatchVisionTransformer README "Train", "further refine the
# model by"): resume the 300-epoch checkpoint of
# deit_b24_diverse_released.py and train to epoch 400 with drop path 0.75
# (``--start_epoch 300 --epochs 400 --resume model.pth --drop-path 0.75``),
# everything else as stage 1.
# Target: 83.3 top-1 (released README, VIT-B24; paper Table 1), measured on
# this stage's final weights.
# The released scheduler is recomputed for 400 epochs on resume (timm's
# cosine over ``--epochs``): at epoch 300 the lr jumps from ~1e-7 back to
# the 400-epoch cosine's value (about 0.15 x lr) and decays to 1e-7 at
# 400. mmengine would restore stage 1's scheduler state instead;
# mmvitreg's ContinueScheduleHook keeps this config's schedule (cosine over
# 400 epochs) and moves it to the resumed epoch. EMA weights and the epoch
# counter are resumed as usual. The optimizer state is not: the release's
# main.py resume branch has ``optimizer.load_state_dict`` and
# ``lr_scheduler.load_state_dict`` commented out, so AdamW's moments
# restart from zero at epoch 300; mmvitreg's FreshOptimizerHook drops the
# optimizer state of the epoch-300 checkpoint (a refine run interrupted
# later resumes its own optimizer as usual).
_base_ = './deit_b24_diverse_released.py'

load_from = 'work_dirs/deit_b24_diverse_released/epoch_300.pth'
resume = True

model = dict(backbone=dict(drop_path_rate=0.75))
train_cfg = dict(max_epochs=400)

# stage 1's EMA hook, then the two refine hooks described above
custom_hooks = _base_.custom_hooks + [
    dict(type='ContinueScheduleHook'),
    dict(type='FreshOptimizerHook', at_epoch=300),
]
