"""mmseg's ``IoUMetric`` against IoU / mIoU / aAcc / mAcc computed by hand.

A 4x4 label map with 3 classes and two ignore (255) pixels, and a
prediction that is wrong in a few places (also under the ignore pixels,
which must not count). The same map is then written as an ADE20K-style PNG
(values 0..3, 0 = "other") and read back through
``LoadAnnotations(reduce_zero_label=True)``, which maps 0 -> 255 and
k -> k - 1, so the metric must be unchanged.
"""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample
from PIL import Image

import mmvitreg  # noqa: F401  (compat layer before mmseg)

IGN = 255
LABEL = np.array([[0, 0, 1, 1],
                  [0, 0, 1, 1],
                  [2, 2, IGN, IGN],
                  [2, 2, 2, 0]], dtype=np.uint8)
PRED = np.array([[0, 1, 1, 1],
                 [0, 0, 1, 2],
                 [2, 0, 0, 1],   # the last two sit on ignore pixels
                 [2, 2, 1, 0]], dtype=np.int64)

# 14 valid pixels (16 - 2 ignored). Per class c:
#   label area  |L_c|: c0 = 2+2+1 = 5, c1 = 2+2 = 4,   c2 = 2+3 = 5
#   pred area   |P_c| (valid pixels only): c0 = 1+2+1+1 = 5,
#                 c1 = 3+1+1 = 5, c2 = 1+1+2 = 4
#   intersect   |L_c & P_c|: c0 = 1+2+1 = 4, c1 = 2+1 = 3, c2 = 1+2 = 3
#   union = |L_c| + |P_c| - inter: c0 = 6, c1 = 6, c2 = 6
IOU = [4 / 6, 3 / 6, 3 / 6]          # 66.67, 50.00, 50.00
ACC = [4 / 5, 3 / 4, 3 / 5]          # 80.00, 75.00, 60.00
MIOU = (4 / 6 + 3 / 6 + 3 / 6) / 3   # 10/18 = 55.56
MACC = (0.8 + 0.75 + 0.6) / 3        # 2.15/3 = 71.67
AACC = 10 / 14                       # correct / valid = 71.43
CLASSES = ('a', 'b', 'c')


def _sample(label: np.ndarray, pred: np.ndarray) -> dict:
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.from_numpy(
        label.astype(np.int64))[None])
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(pred)[None])
    return sample.to_dict()


def _evaluate(pairs) -> dict:
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [_sample(label, pred) for label, pred in pairs])
    return metric.evaluate(len(pairs))


def _check(metrics: dict) -> None:
    # IoUMetric reports percentages rounded to 2 decimals
    assert metrics['aAcc'] == pytest.approx(100 * AACC, abs=0.005)
    assert metrics['mIoU'] == pytest.approx(100 * MIOU, abs=0.005)
    assert metrics['mAcc'] == pytest.approx(100 * MACC, abs=0.005)
    assert (metrics['aAcc'], metrics['mIoU'], metrics['mAcc']) == (
        71.43, 55.56, 71.67)


def test_iou_metric_matches_hand_computation():
    metrics = _evaluate([(LABEL, PRED)])
    _check(metrics)


def test_per_class_areas_match_hand_counts():
    inter, union, pred_area, label_area = IoUMetric.intersect_and_union(
        torch.from_numpy(PRED), torch.from_numpy(LABEL.astype(np.int64)),
        num_classes=3, ignore_index=IGN)
    assert inter.tolist() == [4, 3, 3]
    assert union.tolist() == [6, 6, 6]
    assert pred_area.tolist() == [5, 5, 4]
    assert label_area.tolist() == [5, 4, 5]
    np.testing.assert_allclose((inter / union).numpy(), IOU, rtol=1e-6)
    np.testing.assert_allclose((inter / label_area).numpy(), ACC, rtol=1e-6)


def test_areas_are_summed_over_images_not_averaged():
    """Split into two 2x4 images: the dataset-level totals, hence every
    metric, are the same. (The top half alone has no class-2 label, so a
    per-image average would weigh its IoUs differently.)"""
    metrics = _evaluate([(LABEL[:2], PRED[:2]), (LABEL[2:], PRED[2:])])
    _check(metrics)


def test_changing_predictions_under_ignore_pixels_changes_nothing():
    pred = PRED.copy()
    pred[LABEL == IGN] = 2
    _check(_evaluate([(LABEL, pred)]))
    # ...while one flipped valid pixel does: (3,3) 0 -> 1 loses one
    # correct pixel, aAcc 9/14 = 64.29
    pred[3, 3] = 1
    assert _evaluate([(LABEL, pred)])['aAcc'] == 64.29


def test_reduce_zero_label_png_gives_the_same_metrics(tmp_path):
    # ADE20K convention: file value 0 = "other" (ignored), k = class k - 1
    file_map = np.where(LABEL == IGN, 0, LABEL + 1).astype(np.uint8)
    assert file_map.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 0, 0],
                                 [3, 3, 3, 1]]
    path = tmp_path / 'label.png'
    Image.fromarray(file_map).save(path)
    with pytest.warns(UserWarning, match='reduce_zero_label'):
        load = LoadAnnotations(reduce_zero_label=True)
    results = load(dict(seg_map_path=str(path), reduce_zero_label=True,
                        seg_fields=[]))
    loaded = results['gt_seg_map']
    np.testing.assert_array_equal(loaded, LABEL)
    _check(_evaluate([(loaded, PRED)]))
    # without the reduction the file's values are taken as classes 0..3:
    # the "other" pixels count as class 0 and every label is shifted
    plain = LoadAnnotations()(dict(seg_map_path=str(path),
                                   reduce_zero_label=False, seg_fields=[]))
    assert plain['gt_seg_map'].tolist() == file_map.tolist()
