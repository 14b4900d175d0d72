"""Shared pieces of the checkpoint converters: unwrapping, errors, results.

A converter turns a public release's state dict into the key names and
layouts of an mmpretrain backbone (no ``backbone.`` prefix: the tool adds
it). Keys that belong to the classifier head are dropped and listed; keys a
converter does not understand raise :class:`CheckpointFormatError` instead
of being dropped silently.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import torch

StateDict = Dict[str, torch.Tensor]

#: Wrapper keys of release checkpoints, tried in this order: DeiT/DeiT III
#: and Swin releases use ``model``; OpenMMLab and Lightning ``state_dict``;
#: some DDP dumps ``module``.
WRAPPER_KEYS = ('state_dict', 'model', 'module', 'model_ema')


class CheckpointFormatError(ValueError):
    """A checkpoint is not in the format a converter expects."""


def sample_keys(keys: Iterable[str], limit: int = 8) -> str:
    """First ``limit`` keys, comma separated, with the count left off."""
    keys = list(keys)
    more = f', ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def format_error(source: str, message: str, keys: Iterable[str]) -> str:
    """``<source>: <message>`` plus a sample of the checkpoint's keys."""
    return f'{source}: {message}\nSample keys: {sample_keys(keys)}'


def unwrap_state_dict(checkpoint: Mapping,
                      source: str = '<checkpoint>') -> StateDict:
    """The tensor dict inside a loaded checkpoint.

    Descends through ``state_dict``/``model``/``module`` wrappers, strips a
    DDP ``module.`` prefix and keeps tensors only.

    Raises:
        CheckpointFormatError: when no tensors are found.
    """
    if not isinstance(checkpoint, Mapping):
        raise CheckpointFormatError(
            f'{source}: expected a dict checkpoint, got '
            f'{type(checkpoint).__name__}')
    state = checkpoint
    while not any(isinstance(v, torch.Tensor) for v in state.values()):
        inner = next(
            (state[k]
             for k in WRAPPER_KEYS if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            raise CheckpointFormatError(
                format_error(
                    source, 'no tensors found (looked inside '
                    f'{", ".join(WRAPPER_KEYS)})', state.keys()))
        state = inner
    out = OrderedDict()
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            out[key[7:] if key.startswith('module.') else key] = value
    return out


@dataclass
class Conversion:
    """What a converter produced.

    Attributes:
        state_dict: mmpretrain backbone keys (no ``backbone.`` prefix).
        format: the source format name (``'timm-vit'``, ``'deit3'``, ...).
        target: the mmpretrain backbone type the keys are for.
        dropped: source keys deliberately left out (heads, rebuilt buffers).
        notes: human-readable remarks (resizes done, inferred settings).
        arch: inferred backbone settings (plain ints/lists) for configs.
    """
    state_dict: StateDict
    format: str
    target: str
    dropped: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    arch: Dict[str, object] = field(default_factory=dict)

    def prefixed(self, prefix: Optional[str] = 'backbone.') -> StateDict:
        """The state dict with ``prefix`` prepended to every key."""
        prefix = prefix or ''
        return OrderedDict((prefix + k, v) for k, v in self.state_dict.items())


def rename_keys(state_dict: Mapping[str, torch.Tensor],
                rename: Callable[[str], Optional[str]], source: str,
                unknown_message: str) -> Tuple[StateDict, List[str]]:
    """Rename every key of ``state_dict`` with ``rename``.

    ``rename(key)`` returns the new name (the tensor is kept), ``''`` (the
    key is dropped, e.g. a classifier head) or ``None`` (no counterpart).

    Returns:
        ``(renamed, dropped)``: the renamed state dict and the dropped keys.

    Raises:
        CheckpointFormatError: some keys have no counterpart; the message is
            ``'<n> key(s) ' + unknown_message``, with ``source`` and the keys.
    """
    out, dropped, unknown = OrderedDict(), [], []
    for key, value in state_dict.items():
        new = rename(key)
        if new is None:
            unknown.append(key)
        elif new == '':
            dropped.append(key)
        else:
            out[new] = value
    if unknown:
        raise CheckpointFormatError(
            format_error(source, f'{len(unknown)} key(s) {unknown_message}',
                         unknown))
    return out, dropped
