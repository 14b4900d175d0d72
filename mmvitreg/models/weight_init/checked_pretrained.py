"""``init_cfg=dict(type='Pretrained', ...)`` that counts what it loaded.

mmengine's ``PretrainedInit`` loads with ``strict=False`` and only warns, so a
checkpoint in the wrong format (mmseg's native ViT ignores ``prefix``; a timm
state dict has other key names) silently leaves a random backbone. This
initialiser replaces mmengine's ``Pretrained`` (same name, same arguments,
so every OpenMMLab config keeps working, including the special priority
``BaseModule`` gives to ``type='Pretrained'``) and:

* loads through the module's own ``_load_from_state_dict`` so load pre-hooks
  still run (mmpretrain's ViT resizes ``pos_embed`` there);
* logs a summary: matched / total model tensors, missing, unexpected and
  shape-mismatched keys;
* raises :class:`PretrainedMismatchError` when any tensor of a transformer
  block or of the patch embedding (``block_keys``) is missing or
  shape-mismatched, whatever the matched share (one random ``qkv`` among
  41 loaded tensors would otherwise train silently), unless the config
  declares it new (``new_keys``);
* raises it too when fewer than ``min_match`` (default 0.9) of the module's
  tensors were loaded.
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS

from .head_map import DEFAULT_HEAD_KEYS, map_head_rows, read_head_map

#: Keys of transformer blocks (mmpretrain ``layers.N``, timm ``blocks.N``,
#: Swin ``stages.N``) and of the patch embedding.
BLOCK_KEYS = r'(^|\.)((layers|blocks|stages)\.\d+|patch_embed)\.'


class PretrainedMismatchError(RuntimeError):
    """Too few tensors of a module were found in its pretrained checkpoint."""


@dataclass
class LoadReport:
    """What :func:`load_state_dict_report` matched, per key."""
    total: int
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.total - len(self.missing) - len(self.mismatched)

    @property
    def ratio(self) -> float:
        return self.matched / max(self.total, 1)

    def summary(self, limit: int = 10) -> str:

        def show(keys: List[str]) -> str:
            more = len(keys) - limit
            extra = f', ... (+{more})' if more > 0 else ''
            return ', '.join(keys[:limit]) + extra

        lines = [f'matched {self.matched}/{self.total} tensors '
                 f'({100 * self.ratio:.1f}%)']
        for name, keys in (('missing', self.missing),
                           ('unexpected', self.unexpected),
                           ('shape-mismatched', self.mismatched)):
            if keys:
                lines.append(f'{name} ({len(keys)}): {show(keys)}')
        return '\n'.join(lines)


def load_state_dict_report(module: nn.Module,
                           state_dict: Dict[str, torch.Tensor]) -> LoadReport:
    """Load what matches into ``module`` and report key by key.

    Unlike ``nn.Module.load_state_dict(strict=False)`` a shape mismatch is
    reported, not raised, and the rest still loads.
    """
    metadata = getattr(state_dict, '_metadata', None)
    state_dict = OrderedDict(state_dict)
    if metadata is not None:
        state_dict._metadata = metadata
    report = LoadReport(total=len(module.state_dict()))
    errors: List[str] = []

    def load(mod: nn.Module, prefix: str = '') -> None:
        local_meta = {} if metadata is None else metadata.get(prefix[:-1], {})
        mod._load_from_state_dict(state_dict, prefix, local_meta, True,
                                  report.missing, report.unexpected, errors)
        for name, child in mod._modules.items():
            if child is not None:
                load(child, f'{prefix}{name}.')

    load(module)
    report.mismatched = [
        msg.split('size mismatch for ', 1)[1].split(':', 1)[0]
        for msg in errors if 'size mismatch for ' in msg
    ]
    return report


@WEIGHT_INITIALIZERS.register_module(name='Pretrained', force=True)
class CheckedPretrainedInit(PretrainedInit):
    """mmengine's ``Pretrained`` initialiser that fails on a poor match.

    Args:
        checkpoint (str): checkpoint path (any scheme mmengine loads).
        prefix (str, optional): keep only keys under this prefix (stripped),
            e.g. ``'backbone.'`` to take a classifier's backbone.
        map_location (str): where to map tensors. Defaults to ``'cpu'``.
        min_match (float): minimum fraction of the module's tensors that must
            be found with the right shape. Defaults to 0.9; 0 disables.
        new_keys (Sequence[str]): glob patterns (``fnmatch``, e.g.
            ``'norm0.*'``, ``'layers.12.*'``) of module keys that are new,
            i.e. allowed to be missing or shape-mismatched.
        block_keys (str): regular expression (``re.search``) of the keys
            that must all load (blocks and patch embedding).
        head_map (str, optional): a file of row indices, one per line: the
            head tensors ``head_keys`` keep these rows of the checkpoint's,
            in this order (Swin's 22k -> 1k mapping; see
            :mod:`mmvitreg.models.weight_init.head_map`).
        head_keys (Sequence[str]): the head tensors ``head_map`` selects
            rows of. Defaults to ``('head.fc.weight', 'head.fc.bias')``.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 map_location: str = 'cpu', min_match: float = 0.9,
                 new_keys: Sequence[str] = (), block_keys: str = BLOCK_KEYS,
                 head_map: Optional[str] = None,
                 head_keys: Sequence[str] = DEFAULT_HEAD_KEYS):
        super().__init__(checkpoint, prefix=prefix, map_location=map_location)
        self.min_match = min_match
        self.new_keys = ([new_keys] if isinstance(new_keys, str)
                         else list(new_keys))
        self.block_keys = re.compile(block_keys)
        self.head_map = head_map
        self.head_keys = tuple(head_keys)

    def unloaded_block_keys(self, report: LoadReport) -> List[str]:
        """Missing or mismatched block keys not declared in ``new_keys``."""
        return [key for key in report.missing + report.mismatched
                if self.block_keys.search(key) and not any(
                    fnmatchcase(key, pat) for pat in self.new_keys)]

    def _state_dict(self) -> Dict[str, torch.Tensor]:
        state = self._checkpoint_state_dict()
        if self.head_map is None:
            return state
        return map_head_rows(state, read_head_map(self.head_map),
                             self.head_keys, source=self.head_map)

    def _checkpoint_state_dict(self) -> Dict[str, torch.Tensor]:
        from mmengine.runner.checkpoint import (
            _load_checkpoint,
            _load_checkpoint_with_prefix,
        )
        if self.prefix is not None:
            return _load_checkpoint_with_prefix(
                self.prefix, self.checkpoint, map_location=self.map_location)
        ckpt = _load_checkpoint(self.checkpoint,
                                map_location=self.map_location)
        for key in ('state_dict', 'model', 'module'):
            if isinstance(ckpt, dict) and key in ckpt:
                ckpt = ckpt[key]
                break
        return OrderedDict((k[7:] if k.startswith('module.') else k, v)
                           for k, v in ckpt.items())

    def __call__(self, module: nn.Module) -> None:
        report = load_state_dict_report(module, self._state_dict())
        where = f'{self.checkpoint}' + (f' (prefix {self.prefix!r})'
                                        if self.prefix else '')
        message = (f'Pretrained weights for {type(module).__name__} from '
                   f'{where}: {report.summary()}')
        if report.ratio < self.min_match:
            raise PretrainedMismatchError(
                f'{message}\nFewer than {100 * self.min_match:.0f}% of the '
                'tensors matched: the checkpoint is probably in another '
                'format; convert it first (tools/convert_checkpoint.py) or '
                'fix `prefix`. Set init_cfg.min_match to accept a partial '
                'load deliberately.')
        blocks = self.unloaded_block_keys(report)
        if blocks:
            raise PretrainedMismatchError(
                f'{message}\n{len(blocks)} tensors of transformer blocks / '
                f'the patch embedding were not loaded (they would train '
                f'from random init): {", ".join(blocks[:10])}'
                f'{" ..." if len(blocks) > 10 else ""}. Fix the checkpoint, '
                'or declare them new with init_cfg.new_keys=[pattern, ...].')
        print_log(message, logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())
