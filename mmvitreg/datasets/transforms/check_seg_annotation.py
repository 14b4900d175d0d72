"""Fail on a segmentation annotation that does not fit its image.

Without a check, an annotation PNG larger than its image trains silently
on a misaligned crop, a smaller one fails far away (``stack expects each
tensor to be equal size`` in the collate, an ``IndexError`` in the metric),
and label ids beyond the classes make the loss index out of range: none of
them names the file. :class:`CheckSegAnnotation` runs right after
``LoadAnnotations`` and raises :class:`BadAnnotationError` naming the
annotation (and image) file.
"""
from typing import List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


class BadAnnotationError(ValueError):
    """An annotation does not match its image or the class range."""


def seg_annotation_problems(image_hw: Sequence[int], seg_map: np.ndarray,
                            num_classes: int, ignore_index: int = 255,
                            reduce_zero_label: bool = False) -> List[str]:
    """What is wrong with one (image, annotation) pair; empty if nothing.

    Args:
        image_hw: the image's (height, width) as loaded (before any resize).
        seg_map: the label map as ``LoadAnnotations`` returns it (label map
            and ``reduce_zero_label`` applied).
        num_classes: valid ids are ``0 .. num_classes - 1``.
        ignore_index: the one other id allowed.
        reduce_zero_label: only for the message (ids were shifted by -1).
    """
    problems = []
    seg_hw = tuple(seg_map.shape[:2])
    if seg_hw != tuple(image_hw[:2]):
        problems.append(
            f'annotation is {seg_hw[0]}x{seg_hw[1]} (HxW) but its image is '
            f'{image_hw[0]}x{image_hw[1]}')
    if seg_map.dtype == np.uint8:
        counts = np.bincount(seg_map.ravel(), minlength=256)
        ids = np.flatnonzero(counts)
    else:
        ids = np.unique(seg_map)
    bad = [int(i) for i in ids
           if (i < 0 or i >= num_classes) and i != ignore_index]
    if bad:
        shown = ', '.join(map(str, bad[:10])) + (' ...' if len(bad) > 10
                                                 else '')
        note = (' (after reduce_zero_label: stored ids minus 1)'
                if reduce_zero_label else '')
        problems.append(
            f'label ids {shown} are outside [0, {num_classes}) and not the '
            f'ignore index {ignore_index}{note}')
    return problems


@TRANSFORMS.register_module()
class CheckSegAnnotation(BaseTransform):
    """Check that ``gt_seg_map`` fits the image and the class range.

    Place it right after ``LoadAnnotations`` (train and test pipelines; in
    test pipelines the image may already be resized: the check compares
    with ``ori_shape``, the size of the image file). Without a loaded
    annotation (mmseg's inference removes ``LoadAnnotations``) it passes
    the sample through.

    Args:
        num_classes (int): number of classes of the dataset/model.
        ignore_index (int): the id meaning "not labelled". Defaults to 255.

    Raises:
        BadAnnotationError: naming the annotation and image files.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> Optional[dict]:
        if 'gt_seg_map' not in results:
            # mmseg's inference (``inference_model``, ``MMSegInferencer``)
            # drops LoadAnnotations from the test pipeline: nothing to check
            return results
        problems = seg_annotation_problems(
            results['ori_shape'], results['gt_seg_map'], self.num_classes,
            self.ignore_index, bool(results.get('reduce_zero_label')))
        if problems:
            raise BadAnnotationError(
                f'{results.get("seg_map_path")}: {"; ".join(problems)} '
                f'(image {results.get("img_path")})')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


def tta_pipeline_with_check(tta_pipeline: list,
                            test_pipeline: list) -> list:
    """mmseg's TTA pipeline with the test pipeline's ``CheckSegAnnotation``
    as a stage right after its ``LoadAnnotations`` stage (unchanged when
    the test pipeline has no check).

    mmseg's ``tta_pipeline`` (from the ``mmseg::`` dataset bases) is
    ``[LoadImageFromFile, TestTimeAug(transforms=[[Resize...],
    [RandomFlip...], [LoadAnnotations], [PackSegInputs]])]``; a config
    cannot insert one element into it, so ``tools/test.py --tta`` adds the
    check here. The annotation is loaded at full size after the resize,
    and the check compares it with ``ori_shape``.
    """
    checks = [t for t in test_pipeline
              if t.get('type') == 'CheckSegAnnotation']
    if not checks:
        return tta_pipeline
    pipeline = [dict(step) for step in tta_pipeline]
    for step in pipeline:
        if step.get('type') != 'TestTimeAug':
            continue
        stages = [list(stage) for stage in step['transforms']]
        for i, stage in enumerate(stages):
            if any(t.get('type') == 'LoadAnnotations' for t in stage):
                stages.insert(i + 1, [dict(checks[0])])
                step['transforms'] = stages
                return pipeline
    raise KeyError('tta_pipeline: no TestTimeAug stage with LoadAnnotations '
                   'to put CheckSegAnnotation after')
