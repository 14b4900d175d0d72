"""The per-layer patch similarity of a config + checkpoint pair: what
``tools/analysis/patch_similarity.py`` measures for each pair."""
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed
from torch.utils.data import DataLoader

from mmvitreg.models.utils.patch_similarity import layer_similarity

from ..models.utils import block_modules, load_weights_strict, model_config


def default_labels(checkpoints: Sequence[str]) -> List[str]:
    """Checkpoint file stems; ``parent/stem`` where stems collide, then
    ``#i`` where even those do."""
    stems = [osp.splitext(osp.basename(c))[0] for c in checkpoints]
    counts = Counter(stems)
    labels = [
        stem if counts[stem] == 1 else
        f'{osp.basename(osp.dirname(osp.abspath(c)))}/{stem}'
        for stem, c in zip(stems, checkpoints, strict=True)
    ]
    counts = Counter(labels)
    return [f'{label}#{i}' if counts[label] > 1 else label
            for i, label in enumerate(labels)]


def probe_loader(cfg: Config, split: str, config: str,
                 batch_size: Optional[int] = None,
                 num_workers: Optional[int] = None,
                 seed: int = 0) -> DataLoader:
    """The config's ``{split}_dataloader`` in file order (no shuffling)."""
    key = f'{split}_dataloader'
    if cfg.get(key) is None:
        raise KeyError(f'{config} has no {key}; choose another --split')
    loader_cfg = cfg[key].copy()
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader_cfg.pop('batch_sampler', None)
    if batch_size is not None:
        loader_cfg['batch_size'] = batch_size
    if num_workers is not None:
        loader_cfg['num_workers'] = num_workers
    if loader_cfg.get('num_workers', 0) == 0:
        loader_cfg['persistent_workers'] = False
    return Runner.build_dataloader(loader_cfg, seed=seed)


def checkpoint_similarity(config: str,
                          checkpoint: str,
                          num_images: int,
                          split: str = 'val',
                          cfg_options: Optional[dict] = None,
                          batch_size: Optional[int] = None,
                          num_workers: Optional[int] = None,
                          device: Optional[str] = None,
                          seed: int = 0,
                          final_norm: bool = True) -> Dict:
    """The similarity curve of one checkpoint on its config's data.

    The model of ``config`` (with its ``data_preprocessor``, as the Runner
    builds it) gets ``checkpoint`` strictly, then :func:`layer_similarity`
    averages over the first ``num_images`` images of the ``split`` loader.

    Returns:
        dict: ``config``, ``checkpoint``, ``backbone`` (class name),
        ``num_images`` (used), ``blocks`` (names) and ``similarity`` (one
        float per block).
    """
    from mmvitreg.utils.config import load_config
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    set_random_seed(seed)
    from mmpretrain.registry import MODELS
    model = MODELS.build(model_config(cfg))
    load_weights_strict(model, checkpoint, config)
    model.to(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    loader = probe_loader(cfg, split, config, batch_size, num_workers, seed)
    curve = layer_similarity(model, loader, num_images,
                             final_norm=final_norm)
    return dict(
        config=config,
        checkpoint=checkpoint,
        backbone=type(getattr(model, 'backbone', model)).__name__,
        num_images=min(num_images, len(loader.dataset)),
        blocks=[name for name, _ in block_modules(model)],
        similarity=curve)
