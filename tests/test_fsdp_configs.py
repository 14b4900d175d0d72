"""The FSDP configs are their DDP recipes plus the strategy, nothing else.

Each FSDP config's resolved dict is compared with the DDP config it names:
only the keys listed here by hand may differ, with the values listed here.
The wrap policy is checked on the meta-built full-size models: one FSDP
unit per transformer block (ViT-L: 24, LV-ViT-M: 20).
"""
import os.path as osp

import pytest
from config_flatten import flatten
from meta_params import params_on_meta
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmvitreg  # noqa: F401  (registration)
from mmvitreg.engine.strategies import transformer_block_wrap_policy
from mmvitreg.models.utils import model_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STRATEGY_KEYS = {'runner_type', 'strategy'}
CASES = {
    'deit3_l_in1k_fsdp.py': dict(
        base='deit3_l_in1k.py', blocks=24,
        changed={'optim_wrapper.optimizer.type': 'ShardedLamb'}),
    'lvvit_m_token_labeling_fsdp.py': dict(
        base='lvvit_m_token_labeling.py', blocks=20,
        changed={'custom_hooks.0.type': 'ShardedEMAHook'}),
}


def _cfg(name):
    return Config.fromfile(osp.join(ROOT, 'configs/pretrain', name))


@pytest.mark.parametrize('name', sorted(CASES))
def test_fsdp_config_changes_only_the_strategy(name):
    case = CASES[name]
    fsdp = _cfg(name).to_dict()
    base = _cfg(case['base']).to_dict()
    for key in STRATEGY_KEYS:
        fsdp.pop(key)
    flat_fsdp, flat_base = flatten(fsdp), flatten(base)
    for key, want in case['changed'].items():
        assert flat_fsdp[key] == want, key
    differ = {k for k in set(flat_fsdp) | set(flat_base)
              if flat_fsdp.get(k) != flat_base.get(k)}
    assert differ == set(case['changed']), differ
    if name.startswith('lvvit'):  # the recipe's EMA, kept
        assert base['custom_hooks'][0]['type'] == 'EMAHook'
        assert base['custom_hooks'][0]['momentum'] == 8e-5


@pytest.mark.parametrize('name', sorted(CASES))
def test_fsdp_strategy_block(name):
    cfg = _cfg(name)
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.strategy.type == 'RecipeFSDPStrategy'
    wrapper = cfg.strategy.model_wrapper
    assert wrapper.auto_wrap_policy == 'transformer_block_wrap_policy'
    assert wrapper.use_orig_params is True
    state = cfg.strategy.state_dict_cfg
    assert state.state_dict_type == 'FULL_STATE_DICT'


@pytest.mark.parametrize('name', sorted(CASES))
def test_one_fsdp_unit_per_transformer_block(name):
    cfg = _cfg(name)
    init_default_scope(cfg.default_scope)
    from mmpretrain.registry import MODELS
    with params_on_meta():
        model = MODELS.build(model_config(cfg))
    units = [n for n, m in model.named_modules()
             if transformer_block_wrap_policy(m, False, 0)]
    assert units == [f'backbone.layers.{i}'
                     for i in range(CASES[name]['blocks'])]
    assert all(transformer_block_wrap_policy(m, True, 0)
               for m in model.modules())  # always looks inside
