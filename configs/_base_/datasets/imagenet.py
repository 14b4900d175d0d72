# ImageNet-1k at 224 px with the DeiT training recipe (Touvron et al. 2021):
# RandomResizedCrop 224 (bicubic), horizontal flip, RandAugment
# rand-m9-mstd0.5-inc1, RandomErasing p=0.25; test: short side 256 -> centre
# crop 224. mmpretrain's Swin/DeiT ImageNet base already is exactly this
# recipe, so nothing is restated here; Mixup/CutMix and label smoothing live
# in the model's ``train_cfg.augments`` / head loss (see models/deit.py).
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py'
