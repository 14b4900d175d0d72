# Cityscapes, 19 classes (labelTrainIds), 512x1024 crops (mmseg's own recipe).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
