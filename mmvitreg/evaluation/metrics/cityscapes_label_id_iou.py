"""``IoUMetric`` whose prediction PNGs are Cityscapes labelIds."""
import os.path as osp
from typing import Sequence

from mmengine.utils import mkdir_or_exist
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from PIL import Image

from ..cityscapes_ids import CITYSCAPES_CLASSES, train_ids_to_label_ids


@METRICS.register_module()
class CityscapesLabelIdIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` (aAcc/mIoU/mAcc on trainIds, unchanged) that
    writes the predictions for the official Cityscapes server.

    With ``output_dir`` set, each prediction ``(H, W)`` of trainIds 0..18
    is written as ``<output_dir>/<image basename>.png`` (uint8, mode ``L``)
    in labelIds (:func:`~mmvitreg.evaluation.train_ids_to_label_ids`), as
    mmseg's ``CityscapesMetric`` does, without needing
    ``cityscapesscripts``. ``format_only=True`` writes without evaluating
    (test split without ground truth). ``tools/test.py --out`` selects it
    for datasets with the 19 Cityscapes classes.

    Args:
        Those of ``IoUMetric``.

    Raises:
        ValueError: the dataset's classes are not the 19 Cityscapes classes
            (their predictions have no labelIds).
    """

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        output_dir, self.output_dir = self.output_dir, None
        try:  # IoU bookkeeping as IoUMetric, without its trainId PNGs
            super().process(data_batch, data_samples)
        finally:
            self.output_dir = output_dir
        if output_dir is None:
            return
        classes = tuple(self.dataset_meta['classes'])
        if classes != CITYSCAPES_CLASSES:
            raise ValueError(
                f'{type(self).__name__}: labelIds exist for the 19 '
                f'Cityscapes classes only; this dataset has {len(classes)} '
                f'({", ".join(classes[:4])}, ...). Use IoUMetric.')
        mkdir_or_exist(output_dir)
        for sample in data_samples:
            train_ids = sample['pred_sem_seg']['data'].squeeze(0).cpu()
            name = osp.splitext(osp.basename(sample['img_path']))[0]
            Image.fromarray(train_ids_to_label_ids(train_ids.numpy())).save(
                osp.abspath(osp.join(output_dir, f'{name}.png')))
