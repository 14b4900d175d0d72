"""tools/train.py then tools/test.py on the demo UperNet-Swin config.

Two training iterations from a randomly initialised tiny Swin (no
pretrained backbone) on the ADE20K-layout digit scenes, then evaluation of
the saved checkpoint: the test tool prints aAcc/mIoU/mAcc and writes
``test_metrics.json`` into the work dir.
"""
import json
import os.path as osp

from tool_runner import SWIN_ADE_CONFIG, data_options, run_tool


def test_swin_upernet_trains_two_iters_and_tests(digits_root, tmp_path):
    work_dir = str(tmp_path / 'swin_seg')
    opts = ['model.backbone.init_cfg=None', 'train_cfg.max_iters=2',
            'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
            *data_options(digits_root, 'ade', val_size=4)]
    proc = run_tool(['tools/train.py', SWIN_ADE_CONFIG, '--work-dir',
                     work_dir, '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = osp.join(work_dir, 'iter_2.pth')
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == ckpt
    assert 'Saving checkpoint at 2 iterations' in proc.stdout + proc.stderr

    proc = run_tool(['tools/test.py', SWIN_ADE_CONFIG, ckpt, '--work-dir',
                     work_dir, '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'per class results' in log
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert key in log, key
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)['metrics']
    assert {'aAcc', 'mIoU', 'mAcc'} <= set(metrics)
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert 0.0 <= metrics[key] <= 100.0, (key, metrics[key])
