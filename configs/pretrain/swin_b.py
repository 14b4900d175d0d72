# Swin-B (embed 128, depths [2,2,18,2], heads [4,8,16,32], window 7),
# ImageNet-1k from scratch at 224 px, 300 epochs: mmpretrain's own recipe
# (AdamW 1e-3 @1024, wd 0.05, 20 warm-up epochs, cosine, drop path 0.5,
# grad clip 5.0, RandAugment, Mixup/CutMix, label smoothing 0.1).
# Target (Gong et al. 2021, Table 2): Swin-B 83.4 top-1 baseline, 83.7 with
# the patch-diversification losses.
# mmpretrain's swin_transformer/swin-base_16xb64_in1k.py, restated from its
# four bases so that the runtime is this suite's
# (../_base_/default_runtime_cls.py: mmvitreg registration, divergence guard,
# visualizer without `_scope_`) instead of mmpretrain's.
_base_ = [
    'mmpretrain::_base_/models/swin_transformer/base_224.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    '../_base_/default_runtime_cls.py',
]

optim_wrapper = dict(clip_grad=dict(max_norm=5.0))  # as mmpretrain's config

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
