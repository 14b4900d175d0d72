"""tools/check_dataset.py lists every bad sample of a split, exits 1."""
import glob
import os.path as osp
import re

import numpy as np
from PIL import Image
from tool_runner import ADE_CONFIG, CLS_CONFIG, data_options, run_tool


def _check(config, *opts, split='train'):
    return run_tool(['tools/check_dataset.py', config, '--split', split,
                     '--workers', '2', '--cfg-options', *opts])


def _row(out, check):
    match = re.search(rf'^{check} +(\d+) +(\d+)$', out, re.M)
    assert match, out[-3000:]
    return int(match.group(1)), int(match.group(2))


def test_clean_split_passes(digits_root):
    proc = _check(ADE_CONFIG, *data_options(digits_root, 'ade'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _row(proc.stdout, 'annotations') == (24, 0)
    assert _row(proc.stdout, 'class count') == (1, 0)


def test_every_bad_sample_is_listed(tiny_digits_root):
    ade = osp.join(tiny_digits_root, 'ade', 'ADEChallengeData2016')
    anns = sorted(glob.glob(osp.join(ade, 'annotations', 'validation',
                                     '*.png')))
    imgs = sorted(glob.glob(osp.join(ade, 'images', 'validation', '*.jpg')))
    seg = np.array(Image.open(anns[0]))
    Image.fromarray(np.pad(seg, ((0, 4), (0, 4)))).save(anns[0])
    seg = np.array(Image.open(anns[1]))
    seg[0, 0] = 40  # 39 after reduce_zero_label: outside 11 classes
    Image.fromarray(seg).save(anns[1])
    with open(imgs[2], 'wb') as f:
        f.write(b'not a jpeg')
    proc = _check(ADE_CONFIG, *data_options(tiny_digits_root, 'ade'),
                  split='val')
    assert proc.returncode == 1
    out = proc.stdout
    assert _row(out, 'annotations') == (7, 2)
    assert _row(out, 'images') == (1, 1)
    assert f'{anns[0]}: annotation is 68x68' in out
    assert f'{anns[1]}: label ids 39 are outside [0, 11)' in out
    assert f'{imgs[2]}: unreadable image' in out
    assert 'PROBLEMS FOUND' in out


def test_class_count_differs_from_num_classes(digits_root):
    proc = _check(CLS_CONFIG, *data_options(digits_root, 'imagenet'),
                  'model.head.num_classes=7')
    assert proc.returncode == 1
    assert _row(proc.stdout, 'class count') == (1, 1)
    assert '10 classes but the model has num_classes=7' in proc.stdout


TOKEN_CONFIG = 'configs/demo/vit_tiny_digits_token_labeling.py'
STORE_KEY = 'train_dataloader.dataset.pipeline.1.store_root'


def test_config_problems_are_rows_not_tracebacks(digits_root, tmp_path):
    """A token-labeling config without (or with a missing) store and a
    missing data root: one row each, exit 1, no traceback."""
    opts = data_options(digits_root, 'imagenet', train_size=8)
    proc = _check(TOKEN_CONFIG, *opts, f'{STORE_KEY}=None')
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    assert _row(proc.stdout, 'images') == (8, 0)
    assert _row(proc.stdout, 'token shards') == (1, 1)
    assert ('LoadTokenLabel has no store_root: set it with --cfg-options '
            f'{STORE_KEY}=') in proc.stdout
    proc = _check(TOKEN_CONFIG, *opts, f'{STORE_KEY}={tmp_path}/none')
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert _row(proc.stdout, 'token shards') == (1, 1)
    assert f'{tmp_path}/none ({STORE_KEY}): ' in proc.stdout
    proc = _check(CLS_CONFIG, *data_options(str(tmp_path), 'imagenet'))
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert _row(proc.stdout, 'dataset') == (1, 1)
    assert 'train_dataloader.dataset: ' in proc.stdout
