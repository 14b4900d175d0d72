# DeiT III classifier (deit3.py) with the loss of the released ImageNet-21k
# pretraining and fine-tuning commands: cross-entropy with label smoothing
# 0.1 (``--smoothing 0.1`` without ``--bce-loss``) in place of the
# ImageNet-1k pretraining's thresholded BCE. Mixup / CutMix as in deit3.py
# unless a config changes ``train_cfg.augments``.
_base_ = './deit3.py'

model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original')))
