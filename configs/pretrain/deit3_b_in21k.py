# DeiT III ViT-B/16 pretraining on ImageNet-21k at 224 px, 240 epochs: the
# released command (facebookresearch/deit README_revenge.md "Training on
# ImageNet-21k", deit_base_patch16_LS ``--epochs 240``), which is the run
# behind the 85.7 below (its fine-tune log reaches 85.707). This config
# used to train 90 epochs (the header cited the paper), which does not
# match that target; epochs and target now come from the same release:
# LAMB lr 1e-3, wd 0.02, total batch 2048 (32 GPUs x 64), 5 warm-up epochs
# from 1e-6, cosine to 1e-5; CutMix 1.0 only (``--mixup 0``) with
# cross-entropy and label smoothing 0.1 (not BCE); constant drop path 0.1,
# LayerScale 1e-4; Simple Random Crop + flip + 3-Augment; no repeated
# augmentation. Fine-tune on ImageNet-1k with deit3_b_in21k_ft_in1k.py.
# Target (README_revenge ImageNet-21k table, ViT-B 224, after the
# ImageNet-1k fine-tune deit3_b_in21k_ft_in1k.py): 85.7 top-1.
_base_ = [
    '../_base_/models/deit3_ce.py',  # CE + label smoothing 0.1
    '../_base_/datasets/imagenet21k_deit3.py',
    '../_base_/schedules/deit3_in1k_lamb_800e.py',
    '../_base_/default_runtime_cls.py',
]

model = dict(
    backbone=dict(arch='base', drop_path_rate=0.1),
    head=dict(num_classes=21842, in_channels=768),
    train_cfg=dict(augments=[dict(type='CutMix', alpha=1.0)]))

# 32 GPUs x 64 = 2048 images per step.
train_dataloader = dict(batch_size=64)

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.02))
# The schedule's 5 warm-up epochs and cosine to 1e-5, the warm-up still
# starting at 1e-6: its start factor is rebuilt for lr 1e-3 (the base's
# 1e-6 / 4e-3 is ViT-S's lr; see deit3_in1k_lamb_800e_lr3e-3.py).
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-6 / 1e-3),
    _base_.param_scheduler[1],
]
train_cfg = dict(max_epochs=240)
val_cfg = None
test_cfg = None

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
