# DeiT ImageNet-1k schedule (Touvron et al. 2021, Table 9): 300 epochs,
# AdamW lr = 5e-4 * batch / 512 (1e-3 at the reference total batch 1024),
# weight decay 0.05 (none on norms, biases, cls token, position embedding),
# 5 linear warm-up epochs from lr * 1e-3, cosine to 1e-5, no gradient clipping.
# Label smoothing 0.1 and Mixup 0.8 / CutMix 1.0 belong to the model dict
# (head loss and ``train_cfg.augments``, see ../models/deit.py).
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py'

optim_wrapper = dict(
    optimizer=dict(
        type='AdamW',
        lr=5e-4 * 1024 / 512,
        weight_decay=0.05,
        eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        _delete_=True,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0)
        }),
    clip_grad=None,
)

warmup_epochs = 5
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=warmup_epochs)
]

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)

# ``--auto-scale-lr`` rescales lr linearly from this total batch size.
auto_scale_lr = dict(base_batch_size=1024)
