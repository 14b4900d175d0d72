"""Map a pretrained classification head onto a subset of its classes.

Swin's own loader (microsoft/Swin-Transformer ``utils.load_pretrained``)
fine-tunes an ImageNet-22k checkpoint on ImageNet-1k by keeping, for each
of the 1000 classes, the 22k head row of the same class, instead of a
random 1000-way head. The table ``map22kto1k.txt`` of that repository
(``data/map22kto1k.txt``: 1000 lines, line ``i`` = the 0-based row of the
21841-way head for ImageNet-1k class ``i``) is the mapping; it is not
shipped here: pass its path as ``head_map``.
"""
from typing import Dict, List, Sequence

import torch

#: Head tensors of mmpretrain's ``LinearClsHead`` (Swin, ResNet, ...).
DEFAULT_HEAD_KEYS = ('head.fc.weight', 'head.fc.bias')


def read_head_map(path: str) -> List[int]:
    """Row indices, one integer per non-empty line of ``path``."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise FileNotFoundError(
            f'head_map {path!r} cannot be read ({err}); for Swin 22k -> 1k '
            'use data/map22kto1k.txt of microsoft/Swin-Transformer') from err
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(int(line))
        except ValueError:
            raise ValueError(f'{path}, line {number}: {line!r} is not a '
                             'row index') from None
    if not rows:
        raise ValueError(f'head_map {path!r} holds no row index')
    return rows


def map_head_rows(state_dict: Dict[str, torch.Tensor], rows: Sequence[int],
                  keys: Sequence[str] = DEFAULT_HEAD_KEYS,
                  source: str = 'head_map') -> Dict[str, torch.Tensor]:
    """``state_dict`` with each of ``keys`` replaced by its rows ``rows``
    (row ``i`` of the result = row ``rows[i]`` of the checkpoint)."""
    out = dict(state_dict)
    for key in keys:
        if key not in out:
            raise KeyError(f'{source}: the checkpoint has no {key!r} to map '
                           f'(head keys: {list(keys)})')
        tensor = out[key]
        bad = [r for r in rows if not 0 <= r < tensor.shape[0]]
        if bad:
            raise IndexError(f'{source}: row {bad[0]} out of range for '
                             f'{key!r} with {tensor.shape[0]} rows')
        out[key] = tensor[torch.as_tensor(list(rows))].clone()
    return out
