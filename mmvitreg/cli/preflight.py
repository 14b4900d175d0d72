"""Checks run before the Runner touches the work dir.

mmengine builds datasets lazily (inside ``Runner.train``/``test``), after the
Runner has already created the work dir and dumped the config, and a missing
data root then surfaces as a bare listing error deep in a dataset class.
:func:`check_data_paths` walks the dataloader configs first and raises one
``FileNotFoundError`` naming the config key and the path.
"""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

from mmengine.config import Config

DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_HINT = ('For the embedded digits data run `python tools/prepare_digits.py`; '
         'for real data set the path with --cfg-options {key}=PATH.')


def _leaf_datasets(dataset: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(config key, dataset cfg)`` through wrapper datasets."""
    if not isinstance(dataset, dict):
        return
    if 'dataset' in dataset:
        yield from _leaf_datasets(dataset['dataset'], f'{key}.dataset')
    elif 'datasets' in dataset:
        for i, child in enumerate(dataset['datasets']):
            yield from _leaf_datasets(child, f'{key}.datasets.{i}')
    else:
        yield key, dataset


def _join(root: str, path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def _check(path: str, key: str, what: str) -> None:
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{key}: {what} {path!r} does not exist. ' + _HINT.format(key=key))


def check_data_paths(cfg: Config, train: bool = True) -> None:
    """Raise ``FileNotFoundError`` for the first missing data path.

    Args:
        cfg: the full config.
        train: check the train and val loaders (True) or the test loader.
    """
    keys = DATALOADER_KEYS[:2] if train else DATALOADER_KEYS[2:]
    for loader_key in keys:
        loader = cfg.get(loader_key)
        if not loader or 'dataset' not in loader:
            continue
        for key, ds in _leaf_datasets(loader['dataset'],
                                      f'{loader_key}.dataset'):
            root = ds.get('data_root') or ''
            if root:
                _check(root, f'{key}.data_root', 'data root')
            ann_file = ds.get('ann_file') or ''
            if ann_file:
                _check(_join(root, ann_file), f'{key}.ann_file', 'ann file')
            prefix = ds.get('data_prefix') or {}
            if isinstance(prefix, str):
                prefix = {'': prefix}
            for name, sub in prefix.items():
                if sub:
                    sub_key = f'{key}.data_prefix' + (f'.{name}'
                                                      if name else '')
                    _check(_join(root, sub), sub_key, 'data folder')


def _class_folders(folder: str) -> Optional[int]:
    """Number of sub-folders of ``folder`` (None: not a folder, or flat)."""
    if not osp.isdir(folder):
        return None
    count = sum(1 for entry in os.scandir(folder) if entry.is_dir())
    return count or None


def check_class_count(cfg: Config) -> None:
    """Raise ``ValueError`` when a classification training folder has a
    number of class sub-folders other than ``model.head.num_classes``
    (a silently wrong head otherwise: extra classes share logits, missing
    ones never train). Flat folders and configs without a head's
    ``num_classes`` (segmentation) are skipped."""
    head = (cfg.get('model') or {}).get('head') or {}
    num_classes = head.get('num_classes') if isinstance(head, dict) else None
    loader = cfg.get('train_dataloader') or {}
    if not num_classes or 'dataset' not in loader:
        return
    for key, ds in _leaf_datasets(loader['dataset'],
                                  'train_dataloader.dataset'):
        prefix = ds.get('data_prefix') or ''
        if isinstance(prefix, dict):
            prefix = prefix.get('img_path', '')
        folder = _join(ds.get('data_root') or '', prefix)
        found = _class_folders(folder)
        if found is not None and found != num_classes:
            raise ValueError(
                f'{key}: {folder!r} has {found} class folders but '
                f'model.head.num_classes is {num_classes}; set '
                f'--cfg-options model.head.num_classes={found} (and the '
                'data_preprocessor\'s num_classes) or fix the folder')


def _pretrained_files(node, key: str) -> Iterator[Tuple[str, str]]:
    """``(config key, path)`` of every local ``Pretrained`` checkpoint."""
    if isinstance(node, dict):
        if (node.get('type') == 'Pretrained'
                and isinstance(node.get('checkpoint'), str)):
            yield f'{key}.checkpoint', node['checkpoint']
        for name, child in node.items():
            yield from _pretrained_files(child, f'{key}.{name}')
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from _pretrained_files(child, f'{key}.{i}')


def check_pretrained_files(cfg: Config) -> None:
    """Raise ``FileNotFoundError`` for a ``Pretrained`` ``init_cfg`` whose
    local checkpoint does not exist, naming the config key and the
    ``--cfg-options`` that sets it.

    mmengine would start the Runner (work dir, ~500 lines of environment
    and config) and fail only at weight initialisation with the bare path.
    URLs (``scheme://``) are left to the loader.
    """
    for key, path in _pretrained_files(cfg.get('model'), 'model'):
        if '://' in path or osp.isfile(path):
            continue
        raise FileNotFoundError(
            f'{key}: pretrained checkpoint {path!r} does not exist. Train '
            f'or download it, then set --cfg-options {key}=PATH (or '
            f'{key.rsplit(".", 1)[0]}=None to start from random weights).')
