# Swin Transformer classifier (Liu et al. 2021), mmpretrain's own recipe:
# global average pooling + linear head, label smoothing 0.1, Mixup/CutMix.
# ``arch='base'`` here; full configs override ``arch``/``drop_path_rate``.
_base_ = 'mmpretrain::_base_/models/swin_transformer/base_224.py'
