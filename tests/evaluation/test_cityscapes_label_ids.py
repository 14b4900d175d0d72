"""Cityscapes trainIds -> labelIds for the official server's PNGs.

The expected labelIds are written out by hand from cityscapesscripts'
``helpers/labels.py`` (road 7, sidewalk 8, building 11, ... bicycle 33;
ignore 255 -> unlabeled 0).
"""
import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric
from PIL import Image

from mmvitreg.evaluation import (
    CITYSCAPES_CLASSES,
    CityscapesLabelIdIoUMetric,
    has_cityscapes_classes,
    train_ids_to_label_ids,
)

#: (name, trainId, labelId) of the 19 evaluated classes, by hand.
TABLE = [('road', 0, 7), ('sidewalk', 1, 8), ('building', 2, 11),
         ('wall', 3, 12), ('fence', 4, 13), ('pole', 5, 17),
         ('traffic light', 6, 19), ('traffic sign', 7, 20),
         ('vegetation', 8, 21), ('terrain', 9, 22), ('sky', 10, 23),
         ('person', 11, 24), ('rider', 12, 25), ('car', 13, 26),
         ('truck', 14, 27), ('bus', 15, 28), ('train', 16, 31),
         ('motorcycle', 17, 32), ('bicycle', 18, 33)]


def test_every_train_id_and_ignore_by_hand():
    assert CITYSCAPES_CLASSES == tuple(name for name, _, _ in TABLE)
    pred = np.array([[13, 0, 255, 18, 13], [10, 11, 5, 6, 7]], np.int64)
    out = train_ids_to_label_ids(pred)
    assert out.dtype == np.uint8 and out.shape == (2, 5)
    assert out.tolist() == [[26, 7, 0, 33, 26], [23, 24, 17, 19, 20]]
    every = np.array([t for _, t, _ in TABLE] + [255])
    assert train_ids_to_label_ids(every).tolist() == [
        label for _, _, label in TABLE] + [0]


def test_values_outside_the_19_classes_are_refused():
    with pytest.raises(ValueError, match=r'found \[-1, 19, 300\]'):
        train_ids_to_label_ids(np.array([0, 19, -1, 300, 18]))
    with pytest.raises(ValueError, match='integers'):
        train_ids_to_label_ids(np.zeros(3, np.float32))


def sample(pred, gt, name):
    return dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]),
                gt_sem_seg=dict(data=torch.tensor(gt)[None]),
                img_path=f'leftImg8bit/val/frankfurt/{name}_leftImg8bit.png')


def test_metric_writes_label_ids_and_evaluates_train_ids(tmp_path):
    pred = [[13, 13, 0, 0], [18, 11, 10, 2]]
    gt = [[13, 13, 0, 255], [18, 18, 10, 2]]
    samples = [sample(pred, gt, 'frankfurt_000000_000294')]
    out_dir = tmp_path / 'pred'
    ours = CityscapesLabelIdIoUMetric(output_dir=str(out_dir))
    plain = IoUMetric(output_dir=str(tmp_path / 'plain'))
    for metric in (ours, plain):
        metric.dataset_meta = dict(classes=CITYSCAPES_CLASSES)
        metric.process({}, samples)
    png = out_dir / 'frankfurt_000000_000294_leftImg8bit.png'
    assert sorted(p.name for p in out_dir.iterdir()) == [png.name]
    assert np.array(Image.open(png)).tolist() == [[26, 26, 7, 7],
                                                  [33, 24, 23, 11]]
    # IoUMetric itself would have written the trainIds
    plain_png = tmp_path / 'plain' / png.name
    assert np.array(Image.open(plain_png)).tolist() == pred
    # the metrics are IoUMetric's, on trainIds: car 2/2, road 1/1 (its
    # second prediction lies on an ignored pixel), bicycle 1/2, person 0/1
    # (predicted, not in the ground truth), sky 1/1, building 1/1 -> mIoU
    # over these 6 classes (the others are NaN)
    metrics = ours.compute_metrics(ours.results)
    assert metrics == plain.compute_metrics(plain.results)
    assert metrics['mIoU'] == pytest.approx(
        100 * (1 + 1 + 0.5 + 0 + 1 + 1) / 6, abs=0.01)


def test_format_only_writes_without_ground_truth(tmp_path):
    metric = CityscapesLabelIdIoUMetric(output_dir=str(tmp_path),
                                        format_only=True)
    metric.dataset_meta = dict(classes=CITYSCAPES_CLASSES)
    data = dict(pred_sem_seg=dict(data=torch.full((1, 2, 3), 16)),
                img_path='berlin_000000_000019_leftImg8bit.png')
    metric.process({}, [data])
    png = tmp_path / 'berlin_000000_000019_leftImg8bit.png'
    assert (np.array(Image.open(png)) == 31).all()
    assert metric.compute_metrics(metric.results) == {}


def test_metric_refuses_other_classes(tmp_path):
    metric = CityscapesLabelIdIoUMetric(output_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=('background', 'zero', 'one'))
    with pytest.raises(ValueError, match='this dataset has 3'):
        metric.process({}, [sample([[0, 1]], [[0, 1]], 'x')])


@pytest.mark.parametrize('dataset,expected', [
    (dict(type='CityscapesDataset'), True),
    (dict(type='mmseg.CityscapesDataset'), True),
    (dict(type='CityscapesDataset',
          metainfo=dict(classes=list(CITYSCAPES_CLASSES))), True),
    (dict(type='CityscapesDataset', metainfo=dict(classes=('road', 'car'))),
     False),
    (dict(type='DigitScenesCityscapesDataset'), False),
    (dict(type='ADE20KDataset'), False),
    (dict(type='NoSuchDataset'), False),
])
def test_which_datasets_get_label_ids(dataset, expected):
    assert has_cityscapes_classes(dataset) is expected
