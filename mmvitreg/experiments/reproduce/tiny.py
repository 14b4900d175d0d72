"""``--tiny``: the digits demo data and a few iterations per stage.

The demo configs train for minutes; a tiny chain overrides, per stage,
only the length, the batch, the data root and the number of samples
(``--cfg-options``), so the chain itself (commands, hand-offs, markers,
resume) is the one a full run goes through.
"""
import os.path as osp
from typing import List, Optional

from .stages import Stage

#: data root sub-folder of each layout (tools/prepare_digits.py's tree)
LAYOUTS = {'imagenet': 'imagenet', 'ade': 'ade/ADEChallengeData2016',
           'cityscapes': 'cityscapes'}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def data_options(root: str, layout: str, train: int, val: int) -> List[str]:
    """Point every loader at ``root``'s ``layout`` and take the first
    ``train`` / ``val`` samples."""
    sub = osp.join(root, LAYOUTS[layout])
    opts = [f'{loader}.dataset.data_root={sub}' for loader in LOADERS]
    opts.append(f'train_dataloader.dataset.indices={train}')
    opts += [f'{loader}.dataset.indices={val}' for loader in LOADERS[1:]]
    return opts


def tiny_options(stage: Stage, data_root: str,
                 config: Optional[str] = None) -> List[str]:
    """``--cfg-options`` of a tiny train or test stage (``config``: the
    tested config, whose layout the test stage shares)."""
    layout = stage.layout
    if stage.kind == 'test' and config is not None:
        layout = _layout_of(config)
    if layout == 'imagenet':
        length = ['train_cfg.max_epochs=2', 'train_dataloader.batch_size=32',
                  'default_hooks.checkpoint.interval=1']
        data = data_options(data_root, layout, 64, 32)
    else:
        length = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                  'default_hooks.checkpoint.interval=2']
        data = data_options(data_root, layout, 8, 4)
    return data if stage.kind == 'test' else length + data


def _layout_of(config: str) -> str:
    name = osp.basename(config)
    if 'cityscapes' in name:
        return 'cityscapes'
    return 'ade' if 'ade20k' in name else 'imagenet'


def prepare_command(python: str, data_root: str) -> List[str]:
    """``tools/prepare_digits.py`` writing the digits tree."""
    return [python, 'tools/prepare_digits.py', '--out', data_root]
