"""Kill-safe checkpoints and ``--resume`` that never takes a broken file.

Each kill is a real SIGKILL of a ``tools/train.py`` process (the test-only
``SigkillHook``), at the two instants mmengine's own ``CheckpointHook``
loses data: with the new checkpoint complete in its temporary file but not
yet renamed, and renamed but before ``last_checkpoint`` is rewritten.
"""
import glob
import os
import os.path as osp

import pytest
from kill_runs import (
    assert_ok,
    assert_sigkilled,
    digits_options,
    kill_config,
    load,
    read_last_checkpoint,
    train,
)
from mmengine.config import Config
from tool_runner import ROOT

CONFIG = 'configs/demo/vit_tiny_digits.py'
# 48 images, batch 8: 6 iterations an epoch; checkpoints at 4, 8, 12
RUN = ['train_cfg.max_epochs=2', 'default_hooks.checkpoint.by_epoch=False',
       'default_hooks.checkpoint.interval=4']


def _options(digits_root, keep):
    return [*digits_options(digits_root, 'imagenet', 48, 8, 0), *RUN,
            f'default_hooks.checkpoint.max_keep_ckpts={keep}']


def _pth_files(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, '*.pth')))


@pytest.mark.parametrize('kill', ['before_replace=iter_8.pth',
                                  'after_replace=iter_8.pth'])
def test_kill_while_saving_keeps_a_resumable_checkpoint(
        kill, digits_root, tmp_path):
    """``max_keep_ckpts=1``: the previous checkpoint is deleted only after
    the new one is complete and named in ``last_checkpoint``."""
    config = kill_config(tmp_path, CONFIG)
    work_dir = str(tmp_path / 'work')
    options = _options(digits_root, keep=1)
    assert_sigkilled(train(config, work_dir, options, kill=kill))
    latest = read_last_checkpoint(work_dir)
    assert osp.basename(latest) == 'iter_4.pth'
    assert load(latest)['meta']['iter'] == 4  # complete, loadable
    expected = (['iter_4.pth'] if kill.startswith('before')
                else ['iter_4.pth', 'iter_8.pth'])
    assert _pth_files(work_dir) == expected
    proc = train(config, work_dir, options, resume='')
    assert_ok(proc)
    assert 'resumed epoch: 0, iter: 4' in proc.stdout + proc.stderr
    assert _pth_files(work_dir) == ['iter_12.pth']
    assert not [n for n in os.listdir(work_dir) if n.endswith('.tmp')]


def _truncate(path):
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)


def test_unreadable_latest_checkpoint_is_skipped_or_named(digits_root,
                                                          tmp_path):
    config = kill_config(tmp_path, CONFIG)
    work_dir = str(tmp_path / 'work')
    options = _options(digits_root, keep=2)
    assert_ok(train(config, work_dir, options))
    latest = read_last_checkpoint(work_dir)
    assert osp.basename(latest) == 'iter_12.pth'
    _truncate(latest)
    # an explicit unreadable checkpoint: an error naming the file
    proc = train(config, str(tmp_path / 'other'), options, resume=latest)
    assert proc.returncode != 0
    assert f'cannot resume from checkpoint {latest}' in proc.stderr
    assert not osp.exists(tmp_path / 'other')  # failed before any folder
    # --resume alone: warns naming it, takes the newest readable one
    more = options + ['train_cfg.max_epochs=3']
    proc = train(config, work_dir, more, resume='')
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert f'skipping unreadable checkpoint {latest}' in log
    assert 'resumed epoch: 1, iter: 8' in log
    assert load(read_last_checkpoint(work_dir))['meta']['iter'] == 18


def _config_files():
    return sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                            recursive=True))


@pytest.mark.parametrize(
    'path', [p for p in _config_files() if '/_base_/' not in p],
    ids=lambda p: osp.relpath(p, ROOT))
def test_every_config_saves_atomically(path):
    cfg = Config.fromfile(path)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
