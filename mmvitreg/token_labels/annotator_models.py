"""Building the classifier that annotates: an mmpretrain config or a timm
model, with its input normalisation and native input size.

Each builder returns ``(model, preprocess, size)``: the model in eval mode
on ``device``, a function from uint8 BGR ``(B, 3, S, S)`` images to the
model's normalised input, and the side ``S`` it was trained/evaluated at.
"""
import os.path as osp
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

from ..models.utils.strict_load import load_weights_strict

Preprocess = Callable[[torch.Tensor], torch.Tensor]
Annotator = Tuple[nn.Module, Preprocess, int]


def test_crop_size(cfg: Config, default: int = 224) -> int:
    """The input side of a config's test pipeline (its ``CenterCrop``, else
    its first ``Resize``): the resolution a CNN classifier was evaluated at."""
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get(
        'pipeline', [])
    size = None
    for t in pipeline:
        if t.get('type') == 'CenterCrop':
            size = t.get('crop_size')
        elif t.get('type') == 'Resize' and size is None:
            size = t.get('scale')
    if isinstance(size, (list, tuple)):
        size = size[0]
    return int(size) if size else default


def build_mmpretrain(config: str, checkpoint: Optional[str],
                     device: str) -> Annotator:
    """An mmpretrain classifier; normalised by its ``data_preprocessor``;
    size: a ViT's ``img_size``, else the config's test crop."""
    from mmpretrain.apis import get_model
    model = get_model(config, pretrained=False, device=device)
    if checkpoint:
        load_weights_strict(model, checkpoint, config)
    model.to(device).eval()

    def preprocess(imgs: torch.Tensor) -> torch.Tensor:
        return model.data_preprocessor(dict(inputs=imgs), False)['inputs']

    size = getattr(getattr(model.backbone, 'patch_embed', None),
                   'init_input_size', None)
    if size:
        return model, preprocess, int(size[0])
    return model, preprocess, test_crop_size(model._config)


def _load_state_dict(path: str) -> dict:
    """The weights of a timm-style file (plain, ``state_dict``, ``model``
    or ``state_dict_ema``), loaded with ``weights_only=True``."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('state_dict', 'model', 'state_dict_ema'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return ckpt[key]
    return ckpt


def _timm_model(name: str, checkpoint: Optional[str],
                kwargs: dict) -> nn.Module:
    """``timm.create_model`` with the checkpoint's class count, loaded
    strictly."""
    import timm
    if not timm.is_model(name):
        raise ValueError(f'{name!r} is neither a config file (.py) nor a timm '
                         'model name')
    kwargs = dict(kwargs)
    state = None
    if checkpoint:
        state = _load_state_dict(checkpoint)
        if 'num_classes' not in kwargs:
            probe = timm.create_model(name, pretrained=False, **kwargs)
            key = probe.pretrained_cfg.get('classifier', 'head') + '.weight'
            if key in state:
                kwargs['num_classes'] = state[key].shape[0]
    model = timm.create_model(name, pretrained=False, **kwargs)
    if state is not None:
        model.load_state_dict(state, strict=True)
    return model


def build_timm(name: str, checkpoint: Optional[str], device: str,
               kwargs: dict) -> Annotator:
    """A timm model; normalised by its ``pretrained_cfg`` mean/std (RGB);
    size: its patch embedding's ``img_size``, else its input size."""
    from timm.data import resolve_data_config
    model = _timm_model(name, checkpoint, kwargs)
    model.to(device).eval()
    cfg = resolve_data_config({}, model=model)
    mean = torch.tensor(cfg['mean'], device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(cfg['std'], device=device).view(1, 3, 1, 1) * 255

    def preprocess(imgs: torch.Tensor) -> torch.Tensor:
        return (imgs.flip(1).float() - mean) / std  # BGR -> RGB

    # a ViT built with another img_size reports it on its patch embedding
    native = getattr(getattr(model, 'patch_embed', None), 'img_size', None)
    native = native or cfg['input_size'][-2:]
    return model, preprocess, int(native[0])


def build_annotator_model(model: str, checkpoint: Optional[str],
                          device: str, model_kwargs: dict) -> Annotator:
    """``model`` ending in ``.py``: an mmpretrain config; else a timm
    model name (``model_kwargs`` go to ``timm.create_model``)."""
    if model.endswith('.py'):
        if not osp.isfile(model):
            raise FileNotFoundError(f'config not found: {model}')
        return build_mmpretrain(model, checkpoint, device)
    return build_timm(model, checkpoint, device, model_kwargs)
