"""FSDP through mmengine's FlexibleRunner, 2 gloo processes on the CPU.

The control of the FSDP run is the same tiny DeiT III run under DDP
(``configs/demo/deit3_tiny_digits.py``: same data, seed, LAMB, EMA), which
differs only in the strategy: sharding must not change the training. Then
a run resumed from the FSDP run's first checkpoint must end with its exact
weights, optimizer moments and EMA. Expected values come from the DDP run
and the uninterrupted run, never from the FSDP code.

Four torchrun launches (about 15 s each on an idle 2-core machine) shared
by the tests.
"""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from tool_runner import ROOT, data_options, dist_train

from mmvitreg.engine.strategies.recipe_fsdp_strategy import check_shardable

DDP_CONFIG = osp.join(ROOT, 'configs/demo/deit3_tiny_digits.py')
FSDP_CONFIG = osp.join(ROOT, 'configs/demo/deit3_tiny_digits_fsdp.py')
#: 16 images / (2 processes x 4) = 2 iterations per epoch, 2 epochs
OPTIONS = [
    'train_cfg.max_epochs=2', 'train_dataloader.batch_size=4',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.checkpoint.max_keep_ckpts=-1'
]


def _with_ema(tmp, base, hook):
    """A config = ``base`` + the LV-ViT recipe's EMA (momentum raised to
    0.2 so that 4 iterations move it)."""
    path = osp.join(tmp, osp.basename(base).replace('.py', '_ema.py'))
    with open(path, 'w') as f:
        f.write(f'_base_ = {base!r}\ncustom_hooks = [dict(type={hook!r}, '
                "momentum=0.2, priority='ABOVE_NORMAL')]\n")
    return path


def _launch(config, work_dir, digits_root, *extra):
    return dist_train(config, '--work-dir', work_dir, '--no-validate',
                      *extra, '--cfg-options', *OPTIONS,
                      *data_options(digits_root, 'imagenet', train_size=16))


def _read(path):
    with open(path) as f:
        return f.read()


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture(scope='module')
def runs(digits_root, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('fsdp'))
    ddp_cfg = _with_ema(tmp, DDP_CONFIG, 'EMAHook')
    fsdp_cfg = _with_ema(tmp, FSDP_CONFIG, 'ShardedEMAHook')
    out = {}
    for name, config, extra in (
            ('ddp', ddp_cfg, ()), ('fsdp', fsdp_cfg, ()),
            ('resumed', fsdp_cfg,
             ('--resume', osp.join(tmp, 'fsdp', 'epoch_1.pth')))):
        work_dir = osp.join(tmp, name)
        os.makedirs(work_dir, exist_ok=True)
        rc, log = _launch(config, work_dir, digits_root, *extra)
        assert rc == 0, f'{name} run failed:\n{log[-4000:]}'
        # mmengine's log file alone keeps the environment listing
        listing = ''.join(_read(f) for f in sorted(
            glob.glob(osp.join(work_dir, '*', '*.log'))))
        out[name] = dict(log=log, listing=listing, dir=work_dir,
                         ckpt=_load(osp.join(work_dir, 'epoch_2.pth')))
    return out


def _max_diff(a, b):
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def test_fsdp_runs_two_processes_for_two_epochs(runs):
    log = runs['fsdp']['log']
    assert 'Distributed training: True' in runs['fsdp']['listing']
    assert 'Epoch(train) [2][2/2]' in log
    assert sorted(f for f in os.listdir(runs['fsdp']['dir'])
                  if f.endswith('.pth')) == ['epoch_1.pth', 'epoch_2.pth']


def test_fsdp_keeps_the_recipes_no_decay_groups(runs):
    """The optimizer sees real shapes: the same parameters get weight decay
    0 as under DDP (mmengine's FSDPStrategy, building it after sharding,
    gives 0 to every parameter: all are 1-D slices)."""
    def no_decay(log):
        return sorted(set(re.findall(
            r'paramwise_options -- (\S+):weight_decay=0.0', log)))
    ddp, fsdp = no_decay(runs['ddp']['log']), no_decay(runs['fsdp']['log'])
    assert ddp == fsdp
    assert 'backbone.layers.0.attn.qkv.weight' not in fsdp
    assert 'backbone.layers.0.attn.qkv.bias' in fsdp


def test_fsdp_training_equals_ddp(runs):
    """Same weights, EMA and moments after 4 LAMB steps (float round-off
    only: measured 2e-7), while training moved the weights by > 1e-2."""
    ddp, fsdp = runs['ddp']['ckpt'], runs['fsdp']['ckpt']
    assert sorted(ddp['state_dict']) == sorted(fsdp['state_dict'])
    assert all(ddp['state_dict'][k].shape == fsdp['state_dict'][k].shape
               for k in ddp['state_dict'])
    trained = {k: v for k, v in ddp['ema_state_dict'].items()
               if k.startswith('module.')}  # state_dict holds the EMA
    assert _max_diff(ddp['state_dict'],
                     {k[len('module.'):]: v
                      for k, v in trained.items()}) > 1e-2
    assert _max_diff(ddp['state_dict'], fsdp['state_dict']) < 2e-6
    assert _max_diff(trained, fsdp['ema_state_dict']) < 2e-6
    assert int(fsdp['ema_state_dict']['steps']) == 4
    # DDP keys its optimizer state by position, FSDP by name
    names = list(ddp['state_dict'])
    for index, name in enumerate(names):
        for moment in ('exp_avg', 'exp_avg_sq'):
            want = ddp['optimizer']['state'][index][moment]
            got = fsdp['optimizer']['state'][name][moment]
            assert torch.allclose(got.reshape(want.shape), want, atol=1e-8)


def _last_lrs(log):
    return re.findall(
        r'Epoch\(train\) \[2\]\[2/2\]\s+(base_lr: \S+\s+lr: \S+)', log)


def _grad_norms(log):
    """Every logged ``grad_norm`` (the divergence guard's: the demo has no
    ``clip_grad``), in order."""
    return [float(v) for v in re.findall(r'grad_norm: (\S+)', log)]


def test_fsdp_logs_the_gradient_norm_of_the_whole_model(runs):
    """The divergence guard's norm under FSDP (square root of the squared
    slice norms summed over ranks) is DDP's norm of the whole gradient;
    one rank's slices would give about 1/sqrt(2) of it."""
    ddp, fsdp = (_grad_norms(runs[k]['log']) for k in ('ddp', 'fsdp'))
    assert len(ddp) == 2 and all(norm > 0 for norm in ddp)  # 2 epochs
    assert fsdp == pytest.approx(ddp, rel=1e-3, abs=2e-4)  # 4 decimals


def test_fsdp_resume_is_bit_exact(runs):
    straight, resumed = runs['fsdp']['ckpt'], runs['resumed']['ckpt']
    assert 'resumed epoch: 1, iter: 2' in runs['resumed']['log']
    # the logged base_lr too (the wrapper's base_param_settings)
    lrs = _last_lrs(runs['fsdp']['log'])
    assert lrs and lrs == _last_lrs(runs['resumed']['log'])
    for key in ('state_dict', 'ema_state_dict'):
        assert all(torch.equal(straight[key][k], resumed[key][k])
                   for k in straight[key]), key
    for name, state in straight['optimizer']['state'].items():
        other = resumed['optimizer']['state'][name]
        assert torch.equal(state['exp_avg'], other['exp_avg'])
        assert torch.equal(state['exp_avg_sq'], other['exp_avg_sq'])
        # torch 2.14 with offload_to_cpu on CPU wrote exp_avg_sq twice
        assert not torch.equal(state['exp_avg'], state['exp_avg_sq']), name


def test_mmengine_ema_hook_is_refused_under_fsdp(digits_root, tmp_path):
    """RecipeFSDPStrategy refuses an EMA of one rank's slices (its sharded
    model refuses the EMA's deep copy) before any training or checkpoint,
    under any runner."""
    config = _with_ema(str(tmp_path), FSDP_CONFIG, 'EMAHook')
    rc, log = _launch(config, str(tmp_path / 'w'), digits_root)
    assert rc != 0
    assert "custom_hooks: type='EMAHook' under FSDP" in log
    assert "type='ShardedEMAHook'" in log
    assert not any(f.endswith('.pth') for f in os.listdir(tmp_path / 'w'))


@pytest.mark.parametrize('name', ['Lamb', 'mmpretrain.Lamb', 'LARS'])
def test_shard_local_optimizers_are_refused_naming_the_key(name):
    with pytest.raises(ValueError,
                       match=r"optim_wrapper\.optimizer\.type='" +
                       re.escape(name) + "'"):
        check_shardable(dict(optimizer=dict(type=name, lr=1e-3)))


def test_elementwise_optimizers_pass():
    check_shardable(dict(optimizer=dict(type='AdamW', lr=1e-3)))
    check_shardable(dict(optimizer=dict(type='ShardedLamb', lr=1e-3)))


def _top1_by_hand(config, ckpt, digits_root, val_size):
    """Top-1 of ``ckpt``'s weights on the first ``val_size`` validation
    images: a plain model, the test pipeline and argmax, no Runner."""
    from mmengine.config import Config, DictAction
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS, MODELS

    cfg = Config.fromfile(config)
    cfg.merge_from_dict({
        key: DictAction._parse_iterable(value) for key, value in (
            option.split('=', 1) for option in data_options(
                digits_root, 'imagenet', val_size=val_size))})
    init_default_scope('mmpretrain')
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(cfg.model)  # as the Runner builds it
    model.load_state_dict(ckpt['state_dict'])
    model.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(dataset) == val_size
    right = 0
    with torch.no_grad():
        for start in range(0, val_size, 16):
            batch = pseudo_collate([dataset[i] for i in range(
                start, min(start + 16, val_size))])
            for sample in model.test_step(batch):
                right += int(sample.pred_label.item() ==
                             sample.gt_label.item())
    return 100.0 * right / val_size


def test_fsdp_checkpoint_evaluates_like_any_other(runs, digits_root):
    """tools/test.py on the FSDP config (one process, unsharded) gives the
    FSDP run's checkpoint the top-1 an evaluation by hand gives it: one
    checkpoint format for every stage."""
    ckpt = osp.join(runs['fsdp']['dir'], 'epoch_2.pth')
    work_dir = osp.join(runs['fsdp']['dir'], 'test_fsdp')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', FSDP_CONFIG, ckpt, '--work-dir',
         work_dir, '--cfg-options', 'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False',
         *data_options(digits_root, 'imagenet', val_size=64)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'FSDP config: evaluating the full checkpoint unsharded' in \
        proc.stdout
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)['metrics']
    by_hand = _top1_by_hand(DDP_CONFIG, runs['fsdp']['ckpt'], digits_root,
                            64)
    assert metrics['accuracy/top1'] == pytest.approx(by_hand, abs=1e-4)


def test_fsdp_and_ema_checkpoints_load_safely(runs):
    """DDP + EMAHook, FSDP + ShardedEMAHook and the resumed FSDP run's
    checkpoints load with the safe loader's allow-list alone."""
    from safe_loading import assert_loads_safely
    for name, epochs in (('ddp', (1, 2)), ('fsdp', (1, 2)),
                         ('resumed', (2, ))):
        for epoch in epochs:
            got = assert_loads_safely(
                osp.join(runs[name]['dir'], f'epoch_{epoch}.pth'))
            assert 'ema_state_dict' in got
