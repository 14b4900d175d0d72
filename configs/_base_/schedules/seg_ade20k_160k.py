# ADE20K schedule for transformer backbones (mmseg's ViT/Swin UperNet recipe,
# also the DiversePatch Swin-L recipe): 160k iterations, AdamW lr 6e-5,
# weight decay 0.01 (none on position embeddings, relative position bias
# tables and norms), 1500 linear warm-up iterations from lr * 1e-6, then poly
# (power 1.0) to 0. Reference batch: 16 images (8 GPUs x 2).
_base_ = 'mmseg::_base_/schedules/schedule_160k.py'

max_iters = 160000
warmup_iters = 1500
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.)
        }),
    clip_grad=None)
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
# Divergence guard, as in default_runtime_cls.py (here because mmseg keeps
# default_hooks in its schedules: a second base defining it is an error).
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook'),  # kill-safe, resumable
    divergence=dict(type='DivergenceGuardHook', action='stop', max_skips=10))
