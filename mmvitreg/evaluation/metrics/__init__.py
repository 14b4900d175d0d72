"""mmvitreg.evaluation.metrics: ``CityscapesLabelIdIoUMetric`` (mmseg
``METRICS``), IoU with predictions written as Cityscapes labelIds."""
from .cityscapes_label_id_iou import CityscapesLabelIdIoUMetric

__all__ = ['CityscapesLabelIdIoUMetric']
