# ADE20K, 150 classes, 512x512 crops (mmseg's own recipe, unchanged).
_base_ = 'mmseg::_base_/datasets/ade20k.py'
