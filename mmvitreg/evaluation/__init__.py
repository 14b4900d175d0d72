"""Evaluation pieces registered into mmseg: Cityscapes labelId output."""
from .cityscapes_ids import (
    CITYSCAPES_CLASSES,
    TRAIN_ID_TO_LABEL_ID,
    has_cityscapes_classes,
    train_ids_to_label_ids,
)
from .metrics import CityscapesLabelIdIoUMetric

__all__ = [
    'CITYSCAPES_CLASSES', 'CityscapesLabelIdIoUMetric', 'TRAIN_ID_TO_LABEL_ID',
    'has_cityscapes_classes', 'train_ids_to_label_ids'
]
