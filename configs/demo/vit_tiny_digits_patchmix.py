# Control for the patch-diversification demo: vit_tiny_digits.py plus the
# PatchMixing batch augment (CutMix on the 8 px patch grid, which also mixes
# the class targets) and nothing else. vit_tiny_digits_diverse.py is this
# config plus the three patch losses, so diverse - patchmix measures the
# losses, not the augment (tests/test_ablation_rows.py checks that the two
# resolved configs differ only in the loss keys).
# DiverseImageClassifier without any loss is ImageClassifier with
# DiverseDataPreprocessor (which keeps PatchMixing's patch sources; unused
# here): same modules, same state dict, the same classification loss.
_base_ = './vit_tiny_digits.py'

model = dict(
    type='DiverseImageClassifier',
    train_cfg=dict(augments=[
        dict(type='PatchMixing', alpha=1.0, patch_size=8),
    ]))
