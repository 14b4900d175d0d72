"""Check that a checkpoint the suite wrote loads through mmvitreg's safe
loader with nothing admitted beyond its allow-list (the trust variable
unset), and holds the same objects as an unrestricted ``torch.load``."""
import os
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from mmvitreg.compat.checkpoint_loading import TRUST_ENV_VAR, safe_torch_load


def _same(got: Any, want: Any, where: str) -> None:
    assert type(got) is type(want), (where, type(got), type(want))
    if isinstance(want, torch.Tensor):
        assert torch.equal(got, want), where
    elif isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, HistoryBuffer):
        _same(vars(got), vars(want), where)
    elif isinstance(want, dict):
        assert list(got) == list(want), where
        for key in want:
            _same(got[key], want[key], f'{where}.{key}')
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _same(a, b, f'{where}[{i}]')
    else:
        assert got == want or (got != got and want != want), where


def assert_loads_safely(path: str) -> dict:
    """Load ``path`` safely; fail unless it equals the unrestricted load."""
    assert not os.environ.get(TRUST_ENV_VAR), 'premise: safe loading'
    assert getattr not in torch.serialization.get_safe_globals()
    got = safe_torch_load(path, map_location='cpu')
    want = torch.load(path, map_location='cpu', weights_only=False)
    _same(got, want, os.path.basename(path))
    return got
