"""Cityscapes trainIds -> labelIds, the format of the official evaluation
server and of ``cityscapesscripts`` (``*_gtFine_labelIds.png``).

mmseg trains and predicts the 19 evaluated classes as trainIds ``0..18``;
their labelIds (cityscapesscripts ``helpers/labels.py``) are::

    trainId  0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18
    labelId  7  8 11 12 13 17 19 20 21 22 23 24 25 26 27 28 31 32 33
             road sidewalk building wall fence pole light sign vegetation
             terrain sky person rider car truck bus train motorcycle bicycle

and the ignore trainId 255 maps to labelId 0 ('unlabeled', the first of the
labels that share trainId 255, as cityscapesscripts' ``trainId2label``).
"""
from typing import Mapping, Tuple

import numpy as np
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

#: labelId of trainId ``t`` at index ``t``.
TRAIN_ID_TO_LABEL_ID: Tuple[int, ...] = (7, 8, 11, 12, 13, 17, 19, 20, 21,
                                         22, 23, 24, 25, 26, 27, 28, 31, 32,
                                         33)
IGNORE_TRAIN_ID = 255
UNLABELED_LABEL_ID = 0
CITYSCAPES_CLASSES: Tuple[str, ...] = tuple(
    CityscapesDataset.METAINFO['classes'])


def train_ids_to_label_ids(train_ids: np.ndarray) -> np.ndarray:
    """Map an integer trainId map of any shape to uint8 labelIds.

    ``out[i] = TRAIN_ID_TO_LABEL_ID[train_ids[i]]`` for trainIds 0..18 and
    0 for 255.

    Raises:
        ValueError: a value is neither 0..18 nor 255 (not a prediction of
            the 19-class Cityscapes model); the message lists them.
    """
    train_ids = np.asarray(train_ids)
    if not np.issubdtype(train_ids.dtype, np.integer):
        raise ValueError('trainIds must be integers, got dtype '
                         f'{train_ids.dtype}')
    lut = np.full(256, -1, dtype=np.int16)
    lut[:len(TRAIN_ID_TO_LABEL_ID)] = TRAIN_ID_TO_LABEL_ID
    lut[IGNORE_TRAIN_ID] = UNLABELED_LABEL_ID
    in_range = (train_ids >= 0) & (train_ids <= 255)
    out = lut[np.where(in_range, train_ids, 0)]
    bad = ~in_range | (out < 0)
    if bad.any():
        raise ValueError('not Cityscapes trainIds (0..18, 255): found '
                         f'{np.unique(train_ids[bad]).tolist()[:10]}')
    return out.astype(np.uint8)


def has_cityscapes_classes(dataset_cfg: Mapping) -> bool:
    """Whether a dataset config yields the 19 Cityscapes classes as mmseg's
    ``CityscapesDataset`` does (its own or a ``metainfo`` ``classes``), so
    that its predictions are trainIds with labelIds.

    False for other datasets, for subclasses with their own classes (the
    digits stand-in) and for a ``metainfo`` subset (mmseg renumbers those).
    """
    dataset_type = dataset_cfg.get('type')
    cls = (DATASETS.get(dataset_type)
           if isinstance(dataset_type, str) else dataset_type)
    if not isinstance(cls, type):
        return False
    classes = (dataset_cfg.get('metainfo') or {}).get('classes')
    if classes is None:
        classes = getattr(cls, 'METAINFO', {}).get('classes')
    return classes is not None and tuple(classes) == CITYSCAPES_CLASSES
