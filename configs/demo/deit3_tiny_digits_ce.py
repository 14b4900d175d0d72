# Control for the DeiT III demo: deit3_tiny_digits.py with the DeiT (I)
# loss, cross-entropy with label smoothing 0.1, in place of DeiT III's
# thresholded BCE; nothing else changes (same DeiT3ViT, 3-Augment, LAMB).
# Why this control and not "without 3-Augment": BCE is the one switch the
# DeiT III paper presents as a change of objective for ImageNet-1k, and on
# the digits 3-Augment's grayscale branch is a no-op (the scans are already
# gray), so a 3-Augment control would test only solarize/blur/jitter.
_base_ = './deit3_tiny_digits.py'

model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original')))
