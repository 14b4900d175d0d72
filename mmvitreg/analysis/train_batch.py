"""A synthetic training batch at a config's per-GPU batch size and image
size, as its loader hands it to ``model.train_step``.

Used where a step has to run without data: the memory plan
(:mod:`.memory_plan`, under fake tensors) and the GPU acceptance script
(real tensors on the GPU). Images are random uint8; classification
samples carry a class label (and a ``(K, Ht, Wt)`` soft token label for
token-labeling models, the layout ``TokenLabelingClassifier`` reads),
segmentation samples a random label map.
"""
from typing import Tuple

import torch
from mmengine.config import Config

#: Pipeline transforms whose ``scale`` (or ``crop_size``) is the train size.
_CROPS = ('RandomResizedCrop', 'RandomResizedCropWithBox',
          'SimpleRandomCrop', 'RandomCrop')


def _pair(size) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def train_image_size(cfg: Config) -> Tuple[int, int]:
    """(H, W) of the training images: the segmentation crop
    (``crop_size``), else the train pipeline's crop, else the backbone's
    ``img_size``."""
    if cfg.get('crop_size') is not None:
        return _pair(cfg.crop_size)
    pipeline = cfg.train_dataloader.dataset.get('pipeline') or []
    for t in pipeline:
        if t.get('type') in _CROPS:
            size = t.get('scale', t.get('crop_size'))
            if size is not None:
                return _pair(size)
    size = cfg.model.get('backbone', {}).get('img_size')
    if size is None:
        raise KeyError(
            f'{cfg.filename}: no training image size found (crop_size, a '
            'crop in train_dataloader.dataset.pipeline, or '
            'model.backbone.img_size)')
    return _pair(size)


def batch_size(cfg: Config) -> int:
    """``train_dataloader.batch_size`` (images per GPU)."""
    size = cfg.train_dataloader.get('batch_size')
    if not isinstance(size, int) or size < 1:
        raise ValueError(f'{cfg.filename}: train_dataloader.batch_size '
                         f'must be a positive int, got {size!r}')
    return size


def num_classes(cfg: Config) -> int:
    """Classes of the (decode) head."""
    head = cfg.model.get('head') or cfg.model.get('decode_head') or {}
    if 'num_classes' not in head:
        raise KeyError(f'{cfg.filename}: model head has no num_classes')
    return int(head['num_classes'])


def _token_grid(cfg: Config) -> Tuple[int, int]:
    pipeline = cfg.train_dataloader.dataset.get('pipeline') or []
    for t in pipeline:
        if t.get('type') == 'AlignTokenLabel':
            return _pair(t['grid'])
    raise KeyError(f'{cfg.filename}: a token-labeling model needs '
                   'AlignTokenLabel(grid=...) in the train pipeline')


def classification_batch(cfg: Config, size: int) -> dict:
    """``size`` uint8 images and labels for an mmpretrain model."""
    from mmpretrain.structures import DataSample
    height, width = train_image_size(cfg)
    classes = num_classes(cfg)
    dense = cfg.model.get('dense_head') is not None
    grid = _token_grid(cfg) if dense else None
    samples = []
    for i in range(size):
        sample = DataSample().set_gt_label(i % classes)
        if dense:
            sample.set_field(torch.rand(classes, *grid).softmax(0),
                             'token_label', field_type='data')
        samples.append(sample)
    images = torch.randint(0, 256, (size, 3, height, width),
                           dtype=torch.uint8)
    return dict(inputs=list(images), data_samples=samples)


def segmentation_batch(cfg: Config, size: int) -> dict:
    """``size`` uint8 images and label maps for an mmseg model."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    shape = train_image_size(cfg)
    classes = num_classes(cfg)
    samples = []
    for _ in range(size):
        sample = SegDataSample(metainfo=dict(
            img_shape=shape, ori_shape=shape, pad_shape=shape))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, classes, (1, *shape)))
        samples.append(sample)
    images = torch.randint(0, 256, (size, 3, *shape), dtype=torch.uint8)
    return dict(inputs=list(images), data_samples=samples)


def train_batch(cfg: Config, size: int) -> dict:
    """The batch of ``size`` samples for the config's task (its
    ``default_scope``)."""
    if cfg.get('default_scope') == 'mmseg':
        return segmentation_batch(cfg, size)
    return classification_batch(cfg, size)
