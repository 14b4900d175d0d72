"""tools/train.py and tools/test.py end to end on the digits layouts.

A demo pretraining run feeds a demo UperNet run through the checked
``Pretrained`` initialiser, as in the README's main job; evaluation prints
metrics; resume continues at the right iteration with the same state.
"""
import json
import os.path as osp

import pytest
import torch
from safe_loading import assert_loads_safely
from tool_runner import (
    ADE_CONFIG,
    CITYSCAPES_CONFIG,
    CLS_CONFIG,
    data_options,
    run_tool,
)


def last_checkpoint(work_dir) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


@pytest.fixture(scope='module')
def pretrained(digits_root, tmp_path_factory):
    """A 2-epoch (2 x 2 iterations) demo ViT pretraining run through
    tools/train.py, keeping the checkpoints of both epochs."""
    work_dir = str(tmp_path_factory.mktemp('pretrain'))
    proc = run_tool([
        'tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--cfg-options',
        'train_cfg.max_epochs=2', 'train_dataloader.batch_size=32',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=2',
        *data_options(digits_root, 'imagenet', train_size=64, val_size=64)
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir, last_checkpoint(work_dir)


def test_pretrain_then_test_prints_top1(pretrained, digits_root):
    work_dir, ckpt = pretrained
    assert osp.basename(ckpt) == 'epoch_2.pth'
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    for name in ('epoch_1.pth', 'epoch_2.pth'):  # classifier checkpoints
        assert_loads_safely(osp.join(work_dir, name))
    proc = run_tool(['tools/test.py', CLS_CONFIG, ckpt, '--work-dir', work_dir,
                     '--cfg-options',
                     *data_options(digits_root, 'imagenet', val_size=64)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)['metrics']
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0
    assert metrics['accuracy/top5'] >= metrics['accuracy/top1']
    assert '"accuracy/top1"' in proc.stdout


@pytest.mark.parametrize('config,layout', [(ADE_CONFIG, 'ade'),
                                           (CITYSCAPES_CONFIG, 'cityscapes')])
def test_transfer_trains_and_reports_miou(pretrained, digits_root, tmp_path,
                                          config, layout):
    _, backbone_ckpt = pretrained
    work_dir = str(tmp_path / 'seg')
    opts = [f'model.backbone.init_cfg.checkpoint={backbone_ckpt}',
            'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            *data_options(digits_root, layout, val_size=4)]
    proc = run_tool(['tools/train.py', config, '--work-dir', work_dir,
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    # the checked Pretrained initialiser loaded the whole pretrained backbone
    assert 'Pretrained weights for VisionTransformer' in log
    assert '(100.0%)' in log
    ckpt = last_checkpoint(work_dir)
    assert_loads_safely(ckpt)  # a segmenter checkpoint
    proc = run_tool(['tools/test.py', config, ckpt, '--work-dir', work_dir,
                     '--out', str(tmp_path / 'pred'), '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)['metrics']
    assert {'aAcc', 'mIoU', 'mAcc'} <= set(metrics)
    log = proc.stdout + proc.stderr
    assert 'per class results' in log and 'background' in log and 'nine' in log
    pngs = list((tmp_path / 'pred').rglob('*.png'))
    assert len(pngs) == 4
    # --tta: mmseg's multi-scale + flip pipeline, annotations checked
    proc = run_tool(['tools/test.py', config, ckpt, '--work-dir', work_dir,
                     '--tta', '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        assert {'aAcc', 'mIoU', 'mAcc'} <= set(json.load(f)['metrics'])


def test_resume_restores_iteration_weights_and_optimizer(pretrained,
                                                         digits_root):
    """`--resume CKPT` continues after the checkpoint's iteration with its
    exact weights and optimizer state (checked in-process on the Runner)."""
    from mmvitreg.cli import build_runner
    from mmvitreg.utils.config import load_config
    work_dir, ckpt = pretrained
    saved = torch.load(ckpt, map_location='cpu', weights_only=False)
    cfg = load_config(CLS_CONFIG, work_dir=work_dir + '_resumed')
    cfg.merge_from_dict(dict(
        resume=True, load_from=ckpt, train_cfg=dict(max_epochs=2),
        train_dataloader=dict(batch_size=32, dataset=dict(indices=64)),
        val_dataloader=None, val_cfg=None, val_evaluator=None))
    for opt in data_options(digits_root, 'imagenet')[:1]:
        key, value = opt.split('=')
        cfg.merge_from_dict({key: value})
    runner = build_runner(cfg)
    runner.train()  # max_epochs reached: only the resume happens
    assert runner.epoch == saved['meta']['epoch'] == 2
    assert runner.iter == saved['meta']['iter'] == 4
    model = runner.model.state_dict()
    for key, value in saved['state_dict'].items():
        assert torch.equal(model[key], value), key
    state = runner.optim_wrapper.state_dict()
    assert state['param_groups'][0]['lr'] == pytest.approx(
        saved['optimizer']['param_groups'][0]['lr'])
    for idx, param_state in saved['optimizer']['state'].items():
        assert torch.equal(state['state'][idx]['exp_avg'],
                           param_state['exp_avg'])


def test_resume_cli_continues_training(pretrained, digits_root, tmp_path):
    ckpt = osp.join(pretrained[0], 'epoch_1.pth')
    work_dir = str(tmp_path / 'resumed')
    proc = run_tool([
        'tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--resume', ckpt,
        '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
        'train_dataloader.batch_size=32',
        *data_options(digits_root, 'imagenet', train_size=64)
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1, iter: 2' in log
    assert osp.basename(last_checkpoint(work_dir)) == 'epoch_2.pth'
    assert not osp.exists(osp.join(work_dir, 'epoch_1.pth'))
    meta = torch.load(last_checkpoint(work_dir), weights_only=False)['meta']
    assert (meta['epoch'], meta['iter']) == (2, 4)
