"""The memory plan (mmvitreg/analysis/memory_plan.py,
tools/analysis/estimate_memory.py): its saved-activation bytes, counted on
fake tensors, equal the benchmarks' counter on real CPU tensors; parameter
bytes equal a hand count and optimizer bytes the state a real optimizer
holds after a step."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from tool_runner import ROOT, run_tool

import mmvitreg  # noqa: F401
from mmvitreg.analysis import memory_plan as mp
from mmvitreg.analysis.memory_doc import (
    committed_section,
    memory_row,
    table_rows,
)
from mmvitreg.analysis.optimizer_states import optimizer_state_bytes
from mmvitreg.analysis.recipe import full_configs

sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
import patch_diversity_step as pds  # noqa: E402
import token_labeling_step as tls  # noqa: E402
import upernet_step as ups  # noqa: E402


def _measured_cls(config, options, batch, dtype):
    model = pds.suite_model(config, 'cpu', options)
    if config == tls.CONFIG:
        data = tls.make_batch(batch, 224, (14, 14))
    else:
        data = pds.suite_batch(batch, 224)
    with torch.autocast('cpu', dtype=dtype or torch.bfloat16,
                        enabled=dtype is not None):
        return pds.saved_activation_bytes(model, data)


def _measured_seg(config, batch):
    model = ups.seg_model(config, 'cpu')
    data = ups.seg_batch(ups.crop_size(model), batch,
                         model.decode_head.num_classes, labels=True)
    return pds.saved_activation_bytes(model.train(), data)


@pytest.mark.parametrize('config,options,dtype', [
    ('configs/pretrain/deit_s24.py', {}, None),
    ('configs/pretrain/deit_s24.py', {}, torch.bfloat16),
    ('configs/pretrain/deit3_s_in1k.py', {'model.backbone.with_cp': True},
     None),
    (tls.CONFIG, {}, None),
])
def test_saved_activations_match_the_benchmark_counter(config, options,
                                                       dtype):
    batch = 2
    measured = _measured_cls(config, options, batch, dtype)
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(options)
    data = mp.preprocessed_batch(cfg, batch)
    estimated, _ = mp.saved_activation_bytes(
        cfg, 'cpu', data, dtype, mp.uses_checkpointing(cfg))
    assert measured > 2**20
    assert abs(estimated - measured) <= 0.05 * measured, (estimated,
                                                           measured)


def test_saved_activations_match_for_a_segmentor():
    config = 'configs/demo/upernet_vit_tiny_digits_ade20k.py'
    measured = _measured_seg(config, 2)
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.backbone.init_cfg = None
    estimated, _ = mp.saved_activation_bytes(
        cfg, 'cpu', mp.preprocessed_batch(cfg, 2), None, False)
    assert abs(estimated - measured) <= 0.05 * measured, (estimated,
                                                           measured)


def test_with_cp_keeps_only_block_inputs():
    # DeiT III-S at batch 2: 12 blocks each keep one (2, 197, 384) input
    # under with_cp instead of their attention/FFN activations.
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pretrain/deit3_s_in1k.py'))
    data = mp.preprocessed_batch(cfg, 2)
    full, block = mp.saved_activation_bytes(cfg, 'cpu', data, None, False)
    cfg.model.backbone.with_cp = True
    cp, _ = mp.saved_activation_bytes(cfg, 'cpu', data, None, True)
    assert cp < full / 4
    assert block > (full - cp) / 12 * 0.9


def test_parameter_bytes_equal_a_hand_count():
    # DeiT-S24: patch embedding, class token, position embedding, 24 blocks
    # (2 LayerNorms, qkv, proj, fc1, fc2), final norm, 1000-way head.
    dim, mlp, tokens = 384, 1536, 197
    block = (2 * 2 * dim + dim * 3 * dim + 3 * dim + dim * dim + dim +
             dim * mlp + mlp + mlp * dim + dim)
    count = (3 * 16 * 16 * dim + dim + dim + tokens * dim + 24 * block +
             2 * dim + dim * 1000 + 1000)
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pretrain/deit_s24.py'))
    params, _, grads, optim, _, _ = mp._state_bytes(cfg)
    assert params == grads == 4 * count
    # AdamW: exp_avg + exp_avg_sq (4 bytes each) + a float32 step per tensor
    tensors = 1 + 1 + 2 + 24 * 12 + 2 + 2
    assert optim == 2 * 4 * count + 4 * tensors


@pytest.mark.parametrize('optimizer', [
    dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    dict(type='SGD', lr=0.1, momentum=0.9),
    dict(type='SGD', lr=0.1),
    dict(type='Lamb', lr=1e-3, weight_decay=0.05),
])
def test_optimizer_bytes_equal_a_real_optimizer_after_a_step(optimizer):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.LayerNorm(7),
                                torch.nn.Linear(7, 3))
    model[1].weight.requires_grad_(False)  # frozen: no state
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        wrapper = build_optim_wrapper(model, dict(optimizer=optimizer))
    wrapper.update_params(model(torch.randn(4, 5)).square().sum())
    real = sum(t.numel() * t.element_size()
               for state in wrapper.optimizer.state.values()
               for t in state.values() if torch.is_tensor(t))
    assert real > 0 or optimizer.get('momentum') is None
    assert optimizer_state_bytes(optimizer, model.parameters()) == real


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="'Adafactor'"):
        optimizer_state_bytes(dict(type='Adafactor'), [])


def test_verdict_keeps_headroom():
    plan = mp.MemoryPlan(
        config='x', batch=1, image_size=(1, 1), gpus=1, strategy='single',
        amp=None, with_cp=False, params=0, buffers=0, grads=0, optimizer=0,
        ema=0, comm=0, activations=int(0.85 * 80 * 2**30), recompute=0,
        gpu_mem_gib=80)
    assert plan.fits
    plan.recompute = int(0.06 * 80 * 2**30)  # 91% of the card
    assert not plan.fits


def test_tool_prints_the_plan_and_writes_json(tmp_path):
    out = tmp_path / 'plan.json'
    proc = run_tool(['tools/analysis/estimate_memory.py',
                     'configs/demo/vit_tiny_digits.py', '--gpus', '4',
                     '--amp', 'bfloat16', '--json', str(out)], timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'AMP bfloat16' in proc.stdout and '-> fits' in proc.stdout
    plan = json.loads(out.read_text())[0]
    assert plan['gpus'] == 4 and plan['strategy'] == 'DDP'
    assert plan['comm'] == plan['grads']  # DDP's gradient buckets


def test_tool_names_a_missing_config():
    proc = run_tool(['tools/analysis/estimate_memory.py', 'nope.py'],
                    timeout=120)
    assert proc.returncode != 0 and 'nope.py' in proc.stderr


@pytest.mark.parametrize('config', ['configs/pretrain/deit3_b_in1k_ft224.py',
                                    'configs/seg/upernet_swin_l_ade20k.py'])
def test_recipes_doc_memory_rows_are_current(config):
    # docs/recipes.md's memory table is too slow to rebuild in the doc test
    # (two fake passes per config); two rows are rebuilt here.
    with open(osp.join(ROOT, 'docs', 'recipes.md')) as f:
        rows = table_rows(committed_section(f.read()))
    assert len(rows) == len(full_configs(ROOT))
    row = memory_row(config, Config.fromfile(osp.join(ROOT, config)))
    assert row in rows, ('docs/recipes.md memory table is stale: run '
                         'python tools/analysis/print_recipe.py --doc')


def test_fsdp_shards_states_by_gpus_and_ddp_adds_buckets():
    # The demo DeiT III: its FSDP config differs only in the strategy.
    fsdp = Config.fromfile(
        osp.join(ROOT, 'configs/demo/deit3_tiny_digits_fsdp.py'))
    ddp = Config.fromfile(osp.join(ROOT, 'configs/demo/deit3_tiny_digits.py'))
    params, _, grads, optim, block, root = mp._state_bytes(ddp)
    sharded = mp.estimate(fsdp, gpus=4, device='cpu')
    assert sharded.strategy == 'FSDP'
    assert (sharded.params, sharded.grads, sharded.optimizer) == (
        params // 4, grads // 4, optim // 4)
    assert 0 < block < params and sharded.comm == root + 3 * block
    replicated = mp.estimate(ddp, gpus=4, device='cpu')
    assert replicated.strategy == 'DDP'
    assert (replicated.params, replicated.comm) == (params, grads)
    assert mp.estimate(ddp, gpus=1, device='cpu').comm == 0
