"""tools/publish_checkpoint.py: an mmengine training checkpoint (message
hub with HistoryBuffer, optimizer state) becomes weights + plain meta,
named <out>-<sha256[:8]>.pth, readable by plain torch.load(weights_only);
NaN weights and untrusted pickles are refused, naming the key / file."""
import hashlib
import os
import os.path as osp
import pickle
import re
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from mmengine.logging import HistoryBuffer

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def training_checkpoint(path, nan=False):
    weight = torch.randn(4, 3)
    if nan:
        weight[1, 2] = float('inf')
    hub = HistoryBuffer()
    hub.update(1.5)
    torch.save({
        'meta': {'epoch': 3, 'seed': 0, 'cfg': 'model = dict()',
                 'hist': hub},
        'state_dict': OrderedDict([('backbone.fc.weight', weight),
                                   ('head.fc.bias', torch.zeros(3))]),
        'optimizer': {'state': {0: {'exp_avg': torch.zeros(4, 3)}},
                      'param_groups': [{'lr': 0.1, 'params': [0]}]},
        'message_hub': {'log_scalars': {'train/loss': hub}},
        'param_schedulers': [{'last_epoch': 3}],
    }, path)


def run(*args):
    return subprocess.run(
        [sys.executable, 'tools/publish_checkpoint.py', *args], cwd=ROOT,
        capture_output=True, text=True, timeout=300)


def test_publish_strips_and_hashes(tmp_path):
    src = str(tmp_path / 'epoch_3.pth')
    training_checkpoint(src)
    with pytest.raises(pickle.UnpicklingError):  # what publish_model.py hits
        torch.load(src, weights_only=True)
    out = run(src, str(tmp_path / 'release' / 'model.pth'))
    assert out.returncode == 0, out.stderr
    final = out.stdout.strip().splitlines()[-1]
    match = re.fullmatch(re.escape(str(tmp_path / 'release' / 'model')) +
                         r'-([0-9a-f]{8})\.pth', final)
    assert match, final
    with open(final, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest()[:8] == match.group(1)
    loaded = torch.load(final, weights_only=True)  # plain torch, no allow-list
    assert set(loaded) == {'state_dict', 'meta'}
    assert loaded['meta'] == {'epoch': 3, 'seed': 0, 'cfg': 'model = dict()'}
    original = torch.load(src, weights_only=False)
    assert torch.equal(loaded['state_dict']['backbone.fc.weight'],
                       original['state_dict']['backbone.fc.weight'])
    assert 'message_hub, optimizer, param_schedulers' in out.stdout
    assert os.listdir(tmp_path / 'release') == [osp.basename(final)]


def test_publish_refuses_nonfinite_naming_the_key(tmp_path):
    src = str(tmp_path / 'diverged.pth')
    training_checkpoint(src, nan=True)
    out = run(src, str(tmp_path / 'model.pth'))
    assert out.returncode != 0
    assert 'backbone.fc.weight' in out.stderr
    assert not [p for p in os.listdir(tmp_path) if p.startswith('model')]


class Payload:
    pass


def test_publish_refuses_untrusted_pickles(tmp_path):
    src = str(tmp_path / 'odd.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': Payload()}, src)
    out = run(src, str(tmp_path / 'model.pth'))
    assert out.returncode != 0
    assert 'odd.pth' in out.stderr and 'Payload' in out.stderr
