"""The process group's lifecycle (``mmvitreg/engine/process_group.py``).

gloo's threads end only when the C++ group is destroyed, which
``destroy_process_group`` alone does not do while a wrapper still holds it.
Left to interpreter exit they aborted finished ranks under load. These
tests open a real one-process gloo group inside a holder with a reference
cycle (as the Runner is) and count the live gloo threads by name
(``/proc``, so Linux only). The stress proof with real 2-process runs is
``tools/dev/stress_multiproc.sh``.
"""
import sys

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from torch.nn.parallel import DistributedDataParallel

from mmvitreg.engine.process_group import (
    gloo_threads,
    init_cpu_process_group,
    process_group,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='thread names come from /proc')


@pytest.fixture
def torchrun_env(monkeypatch):
    """One rank's torchrun environment; port 0: the store binds a free one
    (nothing else connects to a world of one)."""
    for key, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                           MASTER_ADDR='127.0.0.1', MASTER_PORT='0').items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    yield
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


class _Holder:
    """Holds a DDP model in a reference cycle, like mmengine's Runner."""

    def __init__(self):
        self.me = self
        self.model = DistributedDataParallel(torch.nn.Linear(4, 2))
        self.model(torch.ones(3, 4)).sum().backward()  # one allreduce


def _train(holders):
    holders.append(_Holder())


def test_destroy_alone_leaves_gloo_threads_running(torchrun_env):
    """The root cause, as a control: destroy_process_group while a wrapper
    holds the group leaves its threads alive (they would meet the
    interpreter's finalization)."""
    assert init_cpu_process_group(Config(), 'pytorch')
    holder = _Holder()
    assert 'pt_gloo_runloop' in gloo_threads()
    torch_dist.destroy_process_group()
    assert 'pt_gloo_runloop' in gloo_threads()
    del holder
    import gc
    gc.collect()
    assert gloo_threads() == []


def test_group_closes_after_success(torchrun_env):
    cfg = Config()
    with process_group(cfg, 'pytorch') as opened:
        assert opened and torch_dist.is_initialized()
        _train([])
        assert 'pt_gloo_runloop' in gloo_threads()
    assert not torch_dist.is_initialized()
    assert gloo_threads() == []
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.type == 'CPUDistributedDataParallel'


def test_group_closes_after_failure_and_error_propagates(torchrun_env):
    def train_then_fail():
        holder = _Holder()  # noqa: F841  (held by the traceback's frame)
        raise ValueError('bad batch')

    with pytest.raises(ValueError, match='bad batch'):
        with process_group(Config(), 'pytorch'):
            train_then_fail()
    assert not torch_dist.is_initialized()
    assert gloo_threads() == []


def test_single_process_opens_nothing():
    with process_group(Config(), 'none') as opened:
        assert not opened and not torch_dist.is_initialized()


@pytest.mark.parametrize('runner_type', [
    'FlexibleRunner', 'mmengine.FlexibleRunner', 'WorkDirSafeFlexibleRunner'
])
def test_flexible_runner_gets_no_ddp_wrapper(torchrun_env, runner_type):
    """FSDP configs: the strategy wraps the model; a DDP wrapper config
    would be ignored but land in the dumped config. Any name of a
    FlexibleRunner counts (the tools' subclass included)."""
    import mmvitreg.cli  # noqa: F401  (registers WorkDirSafeFlexibleRunner)
    cfg = Config(dict(runner_type=runner_type))
    with process_group(cfg, 'pytorch'):
        pass
    assert 'model_wrapper_cfg' not in cfg


def test_missing_torchrun_env_names_the_variables(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='MASTER_ADDR, MASTER_PORT'):
        init_cpu_process_group(Config(), 'pytorch')
