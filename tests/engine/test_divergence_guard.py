"""DivergenceGuardHook: non-finite losses / gradients stop the run (or skip
the step), and NaN weights are never saved nor evaluated."""
import glob
import os.path as osp
import re
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from tool_runner import CLS_CONFIG, ROOT, data_options, run_tool
from torch import nn

from mmvitreg.engine.hooks import DivergenceGuardHook
from mmvitreg.utils.finite import NonFiniteError

CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
                 if '_base_' not in p)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_every_config_has_the_guard(path):
    hook = Config.fromfile(path).default_hooks.get('divergence')
    assert hook is not None and hook['type'] == 'DivergenceGuardHook'


def test_skipped_step_changes_neither_weights_nor_optimizer_state():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
    hook = DivergenceGuardHook(action='skip')
    opt.register_step_pre_hook(hook._check_step)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model(torch.tensor([[1., float('nan'), 0.]])).sum().backward()
    opt.step()
    assert hook._step_skipped and hook._grad_norm != hook._grad_norm
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert opt.state_dict()['state'] == {}
    # a finite step afterwards does update (the hook is not a no-op)
    hook._step_skipped = False
    opt.zero_grad()
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    assert not hook._step_skipped
    assert not torch.equal(model.weight, before['weight'])


def test_checkpoint_with_nan_weights_is_never_saved():
    hook = DivergenceGuardHook()
    runner = SimpleNamespace(iter=7, epoch=1)
    state = {'a.weight': torch.ones(2),
             'b.bias': torch.tensor([1., float('inf')]),
             'c.num_batches_tracked': torch.tensor(3)}
    # runner.iter 7 during after_train_iter: the save would be iter_8.pth
    with pytest.raises(NonFiniteError,
                       match=r'iteration 8 \(epoch 2\).*b\.bias'):
        hook.before_save_checkpoint(runner, dict(state_dict=state))
    state['b.bias'] = torch.zeros(2)
    hook.before_save_checkpoint(runner, dict(state_dict=state, meta={}))


def _train(digits_root, work_dir, *opts):
    return run_tool([
        'tools/train.py', CLS_CONFIG, '--work-dir', work_dir,
        '--cfg-options', 'optim_wrapper.optimizer.lr=1e6',
        'train_cfg.max_epochs=2', 'train_dataloader.batch_size=32',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1',
        *data_options(digits_root, 'imagenet', train_size=128, val_size=32),
        *opts])


def _saved_weights_finite(work_dir):
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        state = torch.load(path, map_location='cpu', weights_only=False)
        for key, value in state['state_dict'].items():
            assert torch.isfinite(value).all(), (path, key)


def test_diverged_run_stops_naming_term_and_iteration(digits_root, tmp_path):
    work_dir = str(tmp_path)
    proc = _train(digits_root, work_dir)  # the config's default: stop
    assert proc.returncode != 0
    err = proc.stderr
    assert 'NonFiniteError' in err, err[-3000:]
    match = re.search(r"Non-finite loss term 'loss' = nan.* at iteration "
                      r'(\d+) \(epoch 1\)', err)
    assert match, err[-3000:]
    # the iterations before it were logged with a finite loss
    named = int(match.group(1))
    logged = re.findall(r'Epoch\(train\) +\[1\]\[(\d+)/4\].*? loss: (\S+)',
                        proc.stdout + err)
    assert [int(it) for it, _ in logged] == list(range(1, named))
    assert all(float(loss) == float(loss) for _, loss in logged)
    assert not glob.glob(osp.join(work_dir, '*.pth'))  # stopped mid-epoch 1
    _saved_weights_finite(work_dir)


def test_skip_mode_counts_skips_then_stops(digits_root, tmp_path):
    work_dir = str(tmp_path)
    proc = _train(digits_root, work_dir,
                  'default_hooks.divergence.action=skip',
                  'default_hooks.divergence.max_skips=3')
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    warnings = re.findall(r'at iteration (\d+) .*the optimizer step was '
                          r'skipped \(skipped step (\d) of at most 3\)', out)
    assert [int(n) for _, n in warnings] == [1, 2, 3], out[-3000:]
    iters = [int(it) for it, _ in warnings]
    assert iters == list(range(iters[0], iters[0] + 3))
    assert re.search(rf'iteration {iters[-1] + 1} .*4 non-finite steps '
                     r'skipped, more than max_skips=3', out), out[-3000:]
    # the end of epoch 1 (iteration 4) was saved only if its weights were
    # finite: the skipped steps kept them so
    _saved_weights_finite(work_dir)
    assert 'skipped_steps:' in out and 'grad_norm:' in out
