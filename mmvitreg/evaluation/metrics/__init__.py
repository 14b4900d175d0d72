from .cityscapes_label_id_iou import CityscapesLabelIdIoUMetric

__all__ = ['CityscapesLabelIdIoUMetric']
