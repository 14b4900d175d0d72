"""Finding non-finite (NaN / inf) values in losses and state dicts.

Shared by :class:`~mmvitreg.engine.hooks.DivergenceGuardHook` (training)
and ``tools/test.py`` (which refuses a checkpoint with NaN weights rather
than scoring a broken model).
"""
from typing import List, Mapping

import torch


class NonFiniteError(RuntimeError):
    """A loss, a gradient or a weight is NaN or infinite."""


def is_finite(value) -> bool:
    """True when a tensor (or a list of tensors, or a number) holds only
    finite values."""
    if isinstance(value, (list, tuple)):
        return all(is_finite(v) for v in value)
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point() and not value.is_complex():
            return True
        return bool(torch.isfinite(value).all())
    if isinstance(value, float):
        return value == value and abs(value) != float('inf')
    return True


def nonfinite_tensors(state_dict: Mapping) -> List[str]:
    """Keys of ``state_dict`` whose floating-point tensor is not finite."""
    return [key for key, value in state_dict.items()
            if isinstance(value, torch.Tensor) and not is_finite(value)]


def describe_keys(keys: List[str], limit: int = 10) -> str:
    """``'a, b, ... (+N)'`` for an error message."""
    extra = f', ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + extra
