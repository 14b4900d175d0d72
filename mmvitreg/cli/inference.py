"""OpenMMLab's inferencers on a suite config and a trained checkpoint, with
the suite's rules for bad input (``tools/infer.py``).

mmpretrain's ``ImageClassificationInferencer`` and mmseg's
``MMSegInferencer`` load weights with mmengine's lenient loader: a
checkpoint of another model only logs missing keys and then predicts with
random weights. Here the weights go through the strict rule of
:mod:`mmvitreg.models.utils.strict_load` (every key and shape, no NaN/inf),
and images are read once up front so that an unreadable file is named
rather than failing inside the inferencer's pipeline.
"""
import os.path as osp
from typing import Sequence, Union

import mmcv
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmpretrain.apis import ImageClassificationInferencer, get_model
from mmseg.apis import MMSegInferencer

from mmvitreg.models.utils.strict_load import (
    check_finite,
    load_weights_strict,
    mismatch_error,
)

from .config_args import task_of


class ImageReadError(ValueError):
    """An input image does not exist or cannot be decoded."""


def check_images_readable(paths: Sequence[str]) -> None:
    """Raise :class:`ImageReadError` naming the first image that cannot be
    read (missing, or not decodable by mmcv, the inferencers' reader)."""
    for path in paths:
        if not osp.isfile(path):
            raise ImageReadError(f'{path}: no such image file')
        try:
            image = mmcv.imread(path)
        except Exception as err:  # the reader's own error, file added
            raise ImageReadError(f'{path}: cannot be read as an image '
                                 f'({err})') from err
        if image is None:
            raise ImageReadError(f'{path}: cannot be decoded as an image')


class StrictSegInferencer(MMSegInferencer):
    """``MMSegInferencer`` whose weights load strictly (same arguments)."""

    def __init__(self, model, weights=None, *args, **kwargs) -> None:
        self.weights_file = weights
        super().__init__(model, weights, *args, **kwargs)

    def _load_weights_to_model(self, model, checkpoint, cfg) -> None:
        if checkpoint is not None:
            try:
                _load_checkpoint_to_model(model, checkpoint, strict=True)
            except RuntimeError as err:
                raise mismatch_error(self.weights_file, model,
                                     getattr(cfg, 'filename', None),
                                     err) from None
            check_finite(self.weights_file, checkpoint)
        # mmseg's own: the classes and palette from the checkpoint's meta
        super()._load_weights_to_model(model, checkpoint, cfg)

    def _init_collate(self, cfg):
        """The collate function from mmengine's registry: mmseg has no
        ``function`` registry, so the upstream lookup in the ``mmseg`` scope
        logs a warning and then falls back to this same registry."""
        name = cfg.get('test_dataloader', {}).get('collate_fn')
        if isinstance(name, dict):
            name = name.get('type')
        return pseudo_collate if name is None else FUNCTIONS.get(name)


def strict_classifier_inferencer(cfg: Config, checkpoint: str,
                                 device: str) -> ImageClassificationInferencer:
    """mmpretrain's inferencer on a model built from ``cfg`` and loaded
    strictly; class names from the checkpoint's ``dataset_meta``."""
    model = get_model(cfg, pretrained=False, device='cpu')
    loaded = load_weights_strict(model, checkpoint, cfg.filename)
    meta = loaded.get('meta', {}).get('dataset_meta')
    if meta:
        model._dataset_meta = meta
    return ImageClassificationInferencer(model, device=device)


def build_inferencer(
        cfg: Config, checkpoint: str, device: str
) -> Union[ImageClassificationInferencer, MMSegInferencer]:
    """The upstream inferencer for ``cfg``'s task, weights loaded strictly.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist.
        CheckpointMismatchError: its keys or shapes do not fit the model.
        NonFiniteError: it holds NaN/inf.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    if task_of(cfg) == 'cls':
        return strict_classifier_inferencer(cfg, checkpoint, device)
    return StrictSegInferencer(cfg, checkpoint, device=device)
