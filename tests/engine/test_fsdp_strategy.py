"""RecipeFSDPStrategy's pieces that need no process group, and the one
``is_fsdp`` check. The strategy under torchrun (FSDP == DDP, bit-exact
resume, logged gradient norms) is tests/engine/test_fsdp.py."""
import logging
import os.path as osp
from contextlib import contextmanager

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from tool_runner import ROOT
from torch import nn

from mmvitreg.engine.runner.fsdp import is_fsdp
from mmvitreg.engine.runner.rng_state import rank_rng_state
from mmvitreg.engine.strategies import RecipeFSDPStrategy
from mmvitreg.engine.strategies.recipe_fsdp_strategy import sliced_keys

FSDP_CONFIG = osp.join(ROOT, 'configs/demo/deit3_tiny_digits_fsdp.py')
DDP_CONFIG = osp.join(ROOT, 'configs/demo/deit3_tiny_digits.py')
FSDP_STRATEGY = dict(type='RecipeFSDPStrategy')


@contextmanager
def logged():
    """Messages mmengine's current logger emits inside the block."""
    messages = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: messages.append(
        f'{record.levelname} {record.getMessage()}')
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize('cfg,expected', [
    (dict(runner_type='FlexibleRunner', strategy=FSDP_STRATEGY), True),
    (dict(runner_type='FlexibleRunner',
          strategy=dict(type='FSDPStrategy')), True),
    (dict(runner_type='WorkDirSafeFlexibleRunner',
          strategy=FSDP_STRATEGY), True),
    # mmengine's Runner ignores `strategy`
    (dict(strategy=FSDP_STRATEGY), False),
    (dict(runner_type='FlexibleRunner', strategy=dict(type='DDPStrategy')),
     False),
    (dict(runner_type='FlexibleRunner'), False),
])
def test_is_fsdp_on_configs(cfg, expected):
    import mmvitreg.cli.runner  # noqa: F401  (registers the safe runners)
    assert is_fsdp(cfg) is expected


def test_is_fsdp_on_the_demo_configs_strategy_and_models():
    assert is_fsdp(Config.fromfile(FSDP_CONFIG))
    assert not is_fsdp(Config.fromfile(DDP_CONFIG))
    assert is_fsdp(RecipeFSDPStrategy(model_wrapper=dict(
        use_orig_params=True)))
    assert not is_fsdp(nn.Linear(2, 2))
    with pytest.raises(TypeError, match='model, a strategy or a config'):
        is_fsdp('FSDPStrategy')


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_offload_to_cpu_is_met_without_torchs_flag_and_said():
    with logged() as messages:
        strategy = RecipeFSDPStrategy(state_dict_cfg='full')
    assert strategy.state_dict_config.offload_to_cpu is False
    assert strategy.optim_state_dict_config.offload_to_cpu is False
    # the rest of mmengine's 'full' setting is kept
    assert strategy.state_dict_config.rank0_only is True
    said = '\n'.join(messages)
    assert ('strategy.state_dict_cfg.optim_state_dict_config.offload_to_cpu'
            in said and 'exp_avg == exp_avg_sq' in said)


def _sgd(**extra):
    return dict(optimizer=dict(type='SGD', lr=0.1), **extra)


def test_unsharded_optimizer_needs_use_orig_params():
    strategy = RecipeFSDPStrategy(model_wrapper=dict(use_orig_params=False))
    with pytest.raises(ValueError,
                       match=r'strategy\.model_wrapper\.use_orig_params'):
        strategy.build_unsharded_optim_wrapper(_sgd(), nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"optimizer\.type='Lamb'"):
        strategy.build_unsharded_optim_wrapper(
            dict(optimizer=dict(type='Lamb', lr=0.1)), nn.Linear(2, 2))


def test_amp_wrapper_gets_fsdps_sharded_grad_scaler(monkeypatch):
    """``--amp`` under FSDP: mmengine's AmpOptimWrapper with
    ``use_fsdp=True`` (torch's ShardedGradScaler), unless the config says
    otherwise."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler

    # mmengine asserts an accelerator when building the wrapper; the
    # scaler choice under test does not depend on one
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    strategy = RecipeFSDPStrategy(model_wrapper=dict(use_orig_params=True))
    model = nn.Linear(2, 2)
    amp = strategy.build_unsharded_optim_wrapper(
        _sgd(type='AmpOptimWrapper'), model)
    assert isinstance(amp.loss_scaler, ShardedGradScaler)
    plain = strategy.build_unsharded_optim_wrapper(
        _sgd(type='AmpOptimWrapper', use_fsdp=False), model)
    assert not isinstance(plain.loss_scaler, ShardedGradScaler)


class _Root(nn.Linear):
    """Stands for the FSDP root: records its ``clip_grad_norm_`` calls."""

    calls = []

    def clip_grad_norm_(self, max_norm, norm_type=2.0):
        self.calls.append((max_norm, norm_type))
        return torch.tensor(7.0)


def test_norm_clipping_goes_to_the_fsdp_root():
    """``clip_grad=dict(max_norm=...)`` calls the root FSDP module's
    ``clip_grad_norm_`` (all ranks' slices) with the configured norm, and
    the wrapper logs what it returns; value clipping is left alone."""
    root = _Root(2, 2)
    strategy = RecipeFSDPStrategy(model_wrapper=dict(use_orig_params=True))
    wrapper = strategy.clip_over_ranks(
        strategy.build_unsharded_optim_wrapper(
            _sgd(clip_grad=dict(max_norm=0.5, norm_type=3)), root), root)
    root(torch.ones(1, 2)).sum().backward()
    wrapper.step()
    assert _Root.calls == [(0.5, 3)]
    assert wrapper.message_hub.get_scalar(
        'train/grad_norm').current() == 7.0
    by_value = strategy.build_unsharded_optim_wrapper(
        _sgd(clip_grad=dict(type='value', clip_value=0.1)), root)
    func = by_value.clip_func
    assert strategy.clip_over_ranks(by_value, root).clip_func is func
    assert isinstance(by_value, OptimWrapper)


FULL = {'w': (4, 3), 'b': (4, )}


def _tensors(shapes):
    return {k: torch.zeros(s) for k, s in shapes.items()}


@pytest.mark.parametrize('checkpoint,bad', [
    # mmengine's EMAHook on rank 0: EMA slices swapped into state_dict
    (dict(state_dict=_tensors({'w': (6, ), 'b': (4, )}),
          ema_state_dict=dict(_tensors({'module.w': (4, 3),
                                        'module.b': (4, )}),
                              steps=torch.tensor(2))), ['module.w']),
    # ... on rank 1: no state_dict (rank0_only), its swap failed
    (dict(state_dict={}, ema_state_dict=_tensors({'module.w': (6, ),
                                                  'module.b': (0, )})),
     ['module.w', 'module.b']),
    # ShardedEMAHook: full shapes both ways
    (dict(state_dict=_tensors(FULL),
          ema_state_dict=dict(_tensors({'module.w': (4, 3),
                                        'module.b': (4, )}),
                              steps=torch.tensor(2))), []),
    (dict(state_dict=_tensors(FULL)), []),
])
def test_ema_of_one_ranks_slices_is_found(checkpoint, bad):
    assert sliced_keys(checkpoint, FULL) == bad


def test_save_refuses_an_ema_of_slices_before_writing(tmp_path):
    """The check wraps the runner's callback, whichever runner calls."""
    strategy = RecipeFSDPStrategy(model_wrapper=dict(use_orig_params=True))
    strategy._full_shapes = FULL
    strategy.model_state_dict = lambda: _tensors(FULL)

    def ema_hook(checkpoint):
        checkpoint['ema_state_dict'] = _tensors({'module.w': (6, )})

    path = tmp_path / 'epoch_1.pth'
    with pytest.raises(ValueError, match="type='ShardedEMAHook'"):
        strategy.save_checkpoint(str(path), save_optimizer=False,
                                 save_param_scheduler=False,
                                 callback=ema_hook)
    assert not path.exists()


def _rng(tag):
    return dict(tag=tag)


def test_rank_rng_state_per_rank_and_fallbacks():
    state = dict(rng=_rng('rank0'),
                 rng_per_rank=[_rng('rank0'), _rng('rank1')])
    with logged() as messages:
        assert rank_rng_state(state, 1, 2) == _rng('rank1')
        # a single-process checkpoint has no per-rank list
        assert rank_rng_state(dict(rng=_rng('only')), 0, 1) == _rng('only')
    assert messages == []
    with logged() as messages:
        # resumed on 4 processes: every one restores rank 0's state, warned
        assert [rank_rng_state(state, r, 4) for r in range(4)] == \
            [_rng('rank0')] * 4
    assert len(messages) == 4
    assert messages[0].startswith('WARNING Checkpoint holds the RNG states '
                                  'of 2 processes, this run has 4')
