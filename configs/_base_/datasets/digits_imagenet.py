# Stand-in for ImageNet-1k: the embedded digits set (10 classes, 32 px RGB
# JPEGs written by ``tools/prepare_digits.py`` into ``data/digits/imagenet``).
# Same pipeline structure as ``imagenet.py`` (DeiT recipe), every size scaled
# by 32/224: RandomResizedCrop 32, flip, RandAugment m9-mstd0.5-inc1,
# RandomErasing 0.25; test: short side 36 -> centre crop 32 (224/256 ratio).
_base_ = ['./imagenet.py', './digits_imagenet_splits.py']

dataset_type = 'ImageNetFolder'
img_size = 32
data_preprocessor = dict(num_classes=len(_base_.digit_classes))

# ImageNet mean/std of the base data_preprocessor, in BGR order.
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]

train_pipeline = _base_.digits_randaug_train_pipeline
test_pipeline = _base_.digits_test_pipeline

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_base_.digits_train_set, _delete_=True,
                 pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_base_.digits_val_set, _delete_=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader

# top-5 is meaningless-but-valid with 10 classes; keep the ImageNet metric.
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
