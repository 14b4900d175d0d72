"""Bad input: one clear error naming the path or key; the work dir of an
earlier successful run is left exactly as it was."""
import os
import os.path as osp

import pytest
import torch
from tool_runner import CLS_CONFIG, data_options, run_tool, snapshot

from mmvitreg.cli.work_dir_lock import LOCK_NAME


@pytest.fixture(scope='module')
def finished_run(digits_root, tmp_path_factory):
    """A work dir holding a finished (tiny) run and its test metrics."""
    work_dir = str(tmp_path_factory.mktemp('finished'))
    opts = ['train_cfg.max_epochs=2', 'train_dataloader.batch_size=32',
            *data_options(digits_root, 'imagenet', train_size=64, val_size=32)]
    proc = run_tool(['tools/train.py', CLS_CONFIG, '--work-dir', work_dir,
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = osp.join(work_dir, 'epoch_2.pth')
    proc = run_tool(['tools/test.py', CLS_CONFIG, ckpt, '--work-dir', work_dir,
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir, ckpt, opts


def fails_cleanly(args, work_dir, *expected):
    """Run a tool that must fail; check the message and the work dir."""
    before = snapshot(work_dir)
    proc = run_tool(args)
    assert proc.returncode != 0
    err = proc.stderr
    for text in expected:
        assert text in err, f'{text!r} not in:\n{err[-3000:]}'
    after = snapshot(work_dir)
    # the run lock records its latest holder (README, "Long runs")
    changed = [p for p, data in before.items()
               if after.get(p) != data and p != LOCK_NAME]
    assert not changed, f'a failed run overwrote {changed}'
    return err


def test_missing_data_root(finished_run, tmp_path):
    work_dir, _, opts = finished_run
    missing = str(tmp_path / 'no_such_root')
    fails_cleanly(
        ['tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *opts, f'train_dataloader.dataset.data_root={missing}'],
        work_dir, 'train_dataloader.dataset.data_root', missing,
        'FileNotFoundError')


def test_empty_class_folder(finished_run, tiny_digits_root):
    work_dir, _, opts = finished_run
    train_dir = osp.join(tiny_digits_root, 'imagenet', 'train')
    empty = osp.join(train_dir, 'n00000007')
    for name in os.listdir(empty):
        os.remove(osp.join(empty, name))
    fails_cleanly(
        ['tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *opts, *data_options(tiny_digits_root, 'imagenet'),
         'train_dataloader.dataset.ann_file='],
        work_dir, 'n00000007')


def test_class_folders_other_than_num_classes(finished_run, digits_root):
    work_dir, _, opts = finished_run
    folder = osp.join(digits_root, 'imagenet', 'train')
    assert len(os.listdir(folder)) == 10  # the digits' class folders
    fails_cleanly(
        ['tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *opts, 'model.head.num_classes=7'],
        work_dir, 'has 10 class folders but model.head.num_classes is 7',
        folder)


def test_unreadable_image(finished_run, tiny_digits_root):
    work_dir, _, opts = finished_run
    root = osp.join(tiny_digits_root, 'imagenet')
    with open(osp.join(root, 'meta', 'train.txt')) as f:
        first = f.readline().split()[0]
    with open(osp.join(root, 'train', first), 'wb') as f:
        f.write(b'not a jpeg at all')
    fails_cleanly(
        ['tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *opts, *data_options(tiny_digits_root, 'imagenet', train_size=64),
         'train_dataloader.num_workers=0'],
        work_dir, first)


def test_unregistered_type(finished_run):
    work_dir, _, opts = finished_run
    fails_cleanly(
        ['tools/train.py', CLS_CONFIG, '--work-dir', work_dir, '--cfg-options',
         *opts, 'model.backbone.type=NoSuchBackbone'],
        work_dir, 'NoSuchBackbone', 'not in the')


def test_checkpoint_keys_do_not_match(finished_run, tmp_path):
    work_dir, ckpt, opts = finished_run
    state = torch.load(ckpt, map_location='cpu', weights_only=False)
    state['state_dict'] = {
        k.replace('backbone.layers.', 'backbone.blocks.'): v
        for k, v in state['state_dict'].items()
    }
    bad = str(tmp_path / 'renamed.pth')
    torch.save(state, bad)
    fails_cleanly(
        ['tools/test.py', CLS_CONFIG, bad, '--work-dir', work_dir,
         '--cfg-options', *opts],
        work_dir, 'CheckpointMismatchError', bad, 'backbone.blocks.0',
        'backbone.layers.0')


def test_untrusted_pickle_in_checkpoint(finished_run, tmp_path):
    import fractions
    work_dir, ckpt, opts = finished_run
    state = torch.load(ckpt, map_location='cpu', weights_only=False)
    state['meta']['odd'] = fractions.Fraction(1, 3)
    bad = str(tmp_path / 'odd.pth')
    torch.save(state, bad)
    fails_cleanly(['tools/test.py', CLS_CONFIG, bad, '--work-dir', work_dir,
                   '--cfg-options', *opts],
                  work_dir, bad, 'fractions.Fraction', '--trust-checkpoint')


def test_checkpoint_with_nan_weights(finished_run, tmp_path):
    work_dir, ckpt, opts = finished_run
    state = torch.load(ckpt, map_location='cpu', weights_only=False)
    key = 'backbone.layers.1.attn.qkv.weight'
    state['state_dict'][key][0, 0] = float('nan')
    bad = str(tmp_path / 'diverged.pth')
    torch.save(state, bad)
    fails_cleanly(['tools/test.py', CLS_CONFIG, bad, '--work-dir', work_dir,
                   '--cfg-options', *opts],
                  work_dir, 'NonFiniteError', bad, key, '1 of')


def test_unreadable_resume_fails_before_any_folder(digits_root, tmp_path):
    ckpt = str(tmp_path / 'cut.pth')
    torch.save({'state_dict': {'w': torch.ones(4096)}}, ckpt)
    with open(ckpt, 'r+b') as f:  # a copy cut short: no zip directory
        f.truncate(os.path.getsize(ckpt) // 2)
    work_dir = str(tmp_path / 'new_work_dir')
    proc = run_tool(['tools/train.py', CLS_CONFIG, '--work-dir', work_dir,
                     '--resume', ckpt, '--cfg-options',
                     *data_options(digits_root, 'imagenet')])
    assert proc.returncode != 0
    assert f'cannot resume from checkpoint {ckpt}' in proc.stderr
    assert not osp.exists(work_dir)  # no work dir, no timestamped log dir
