# Swin-B (embed 128, depths [2,2,18,2], heads [4,8,16,32], window 7),
# ImageNet-1k from scratch at 224 px, 300 epochs: mmpretrain's own recipe
# (AdamW 1e-3 @1024, wd 0.05, 20 warm-up epochs, cosine, drop path 0.5,
# grad clip 5.0, RandAugment, Mixup/CutMix, label smoothing 0.1).
# Target (Gong et al. 2021, Table 2): Swin-B 83.4 top-1 baseline, 83.7 with
# the patch-diversification losses.
_base_ = 'mmpretrain::swin_transformer/swin-base_16xb64_in1k.py'

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
# mmpretrain's visualizer without the `_scope_` key the `mmpretrain::` base
# adds (mmpretrain's tools/visualization/browse_dataset.py passes it on as a
# keyword argument), as in ../_base_/default_runtime_cls.py.
visualizer = dict(
    _delete_=True,
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])
# Divergence guard, as in ../_base_/default_runtime_cls.py (this config
# inherits mmpretrain's runtime directly).
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook'),  # kill-safe, resumable
    divergence=dict(type='DivergenceGuardHook', action='stop', max_skips=10))
