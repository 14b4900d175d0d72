"""Safe weights_only loading of mmengine checkpoints, refusal of others."""
import fractions

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import mmvitreg  # noqa: F401
from mmvitreg.compat import (TRUST_ENV_VAR, UntrustedCheckpointError,
                             safe_torch_load)


def mmengine_like_checkpoint() -> dict:
    buffer = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buffer.update(v)
    return dict(
        meta=dict(epoch=3, iter=30, seed=np.int64(7), cfg='model = dict()',
                  dataset_meta=dict(classes=('a', 'b'))),
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars={'train/loss': buffer},
                         runtime_info={'epoch': 3, 'arr': np.arange(3.)},
                         resumed_keys={'epoch': True}),
        optimizer={'state': {}, 'param_groups': [{'lr': np.float64(0.1)}]})


def test_mmengine_checkpoint_loads_safely(tmp_path):
    path = tmp_path / 'epoch_3.pth'
    torch.save(mmengine_like_checkpoint(), path)
    with pytest.raises(Exception):  # premise: torch's default refuses it
        torch.load(path)
    ckpt = _load_checkpoint(str(path))  # mmengine path -> our loader
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert buffer.mean() == pytest.approx(7 / 3)
    assert ckpt['meta']['seed'] == 7
    np.testing.assert_array_equal(ckpt['message_hub']['runtime_info']['arr'],
                                  [0., 1., 2.])


def test_foreign_pickle_refused_with_reason(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    path = tmp_path / 'odd.pth'
    torch.save({'state_dict': {}, 'x': fractions.Fraction(1, 3)}, path)
    with pytest.raises(UntrustedCheckpointError) as info:
        _load_checkpoint(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'fractions.Fraction' in message
    assert TRUST_ENV_VAR in message and '--trust-checkpoint' in message


def test_trust_env_var_loads_foreign_pickle(tmp_path, monkeypatch):
    path = tmp_path / 'odd.pth'
    torch.save({'x': fractions.Fraction(1, 3)}, path)
    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    assert safe_torch_load(path)['x'] == fractions.Fraction(1, 3)


def test_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_torch_load(tmp_path / 'nope.pth')
