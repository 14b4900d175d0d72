"""ImageNetFolder: mmpretrain's CustomDataset with early, path-naming errors,
on the digits ImageNet layout."""
import os
import os.path as osp
import re

import numpy as np
import pytest
from mmpretrain.registry import DATASETS, TRANSFORMS

WNIDS = [f'n{d:08d}' for d in range(10)]


def build(**cfg):
    return DATASETS.build(dict(type='ImageNetFolder', **cfg))


def test_reads_the_digits_layout(digits_root):
    root = osp.join(digits_root, 'imagenet')
    pipeline = [
        TRANSFORMS.build(dict(type='LoadImageFromFile')),
        TRANSFORMS.build(dict(type='PackInputs'))
    ]
    train = build(
        data_root=root,
        data_prefix='train',
        ann_file='meta/train.txt',
        classes='meta/classes.txt',
        pipeline=pipeline)
    val = build(
        data_root=root,
        data_prefix='val',
        ann_file='meta/val.txt',
        classes='meta/classes.txt')
    assert len(train) == 1438 and len(val) == 359
    assert train.CLASSES == ('zero', 'one', 'two', 'three', 'four', 'five',
                             'six', 'seven', 'eight', 'nine')
    assert np.bincount(val.get_gt_labels()).tolist() == [
        36, 36, 35, 37, 36, 36, 36, 36, 35, 36
    ]
    for i in (0, 700, 1437):
        info = train.get_data_info(i)
        assert osp.basename(osp.dirname(
            info['img_path'])) == WNIDS[info['gt_label']]
    sample = train[700]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert sample['data_samples'].gt_label.item() == train.get_data_info(
        700)['gt_label']


def test_scans_class_folders_without_ann_file(digits_root):
    val = build(data_root=osp.join(digits_root, 'imagenet'), data_prefix='val')
    assert len(val) == 359
    assert val.CLASSES == tuple(WNIDS)
    assert val.get_data_info(0)['gt_label'] == 0


def test_missing_root_split_ann_file_and_classes(digits_root, tmp_path):
    root = osp.join(digits_root, 'imagenet')
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=re.escape(missing)):
        build(
            data_root=missing, data_prefix='train', ann_file='meta/train.txt')
    with pytest.raises(
            FileNotFoundError, match=re.escape(osp.join(root, 'tarin'))):
        build(data_root=root, data_prefix='tarin', ann_file='meta/train.txt')
    with pytest.raises(
            FileNotFoundError,
            match=re.escape(osp.join(root, 'meta/trian.txt'))):
        build(data_root=root, data_prefix='train', ann_file='meta/trian.txt')
    with pytest.raises(FileNotFoundError, match='meta/klasses.txt'):
        build(
            data_root=root,
            data_prefix='train',
            ann_file='meta/train.txt',
            classes='meta/klasses.txt')


def test_missing_listed_image_names_ann_file_line_and_path(tiny_digits_root):
    root = osp.join(tiny_digits_root, 'imagenet')
    ann = osp.join(root, 'meta', 'val.txt')
    with open(ann) as f:
        lines = f.read().splitlines()
    lineno = 101
    rel = lines[lineno - 1].split()[0]
    os.remove(osp.join(root, 'val', rel))
    with pytest.raises(FileNotFoundError) as err:
        build(data_root=root, data_prefix='val', ann_file='meta/val.txt')
    msg = str(err.value)
    assert f'{ann}, line {lineno}' in msg
    assert osp.join(root, 'val', rel) in msg
    # the per-file check can be switched off for huge sets
    ds = build(
        data_root=root,
        data_prefix='val',
        ann_file='meta/val.txt',
        verify_files=False)
    assert len(ds) == 359


def test_bad_ann_lines(tmp_path, digits_root):
    root = osp.join(digits_root, 'imagenet')
    bad = tmp_path / 'bad.txt'
    bad.write_text('n00000000/digit_00000.JPEG 0\n\nn00000000/x.JPEG zero\n')
    with pytest.raises(ValueError, match=re.escape(f'{bad}, line 3')):
        build(data_root=root, data_prefix='train', ann_file=str(bad))
    bad.write_text('n00000000/digit_00000.JPEG 10\n')
    with pytest.raises(ValueError, match=r'line 1: label 10 is outside'):
        build(
            data_root=root,
            data_prefix='train',
            ann_file=str(bad),
            classes='meta/classes.txt')
    bad.write_text('\n')
    with pytest.raises(ValueError, match='lists no images'):
        build(data_root=root, data_prefix='train', ann_file=str(bad))


def test_empty_class_folder(tmp_path, digits_root):
    src = osp.join(digits_root, 'imagenet', 'train', WNIDS[0])
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    name = sorted(os.listdir(src))[0]
    with open(osp.join(src, name), 'rb') as f:
        (tmp_path / 'a' / name).write_bytes(f.read())
    (tmp_path / 'b' / 'notes.txt').write_text('not an image')
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / 'b'))):
        build(data_prefix=str(tmp_path))
    with pytest.raises(ValueError, match='2 class sub-folders but 3'):
        build(data_prefix=str(tmp_path), classes=['x', 'y', 'z'])


def test_corrupt_image_error_names_the_file(tmp_path, digits_root):
    # A garbage file with a valid name passes the cheap checks; mmpretrain's
    # real LoadImageFromFile (mmcv's) must then name it when decoding fails.
    src = osp.join(digits_root, 'imagenet', 'train', WNIDS[0])
    good = sorted(os.listdir(src))[0]
    (tmp_path / 'n00000000').mkdir()
    with open(osp.join(src, good), 'rb') as f:
        (tmp_path / 'n00000000' / good).write_bytes(f.read())
    corrupt = tmp_path / 'n00000000' / 'zz_corrupt.JPEG'
    corrupt.write_bytes(b'\x00garbage, not a JPEG' * 10)
    ds = build(
        data_prefix=str(tmp_path),
        pipeline=[TRANSFORMS.build(dict(type='LoadImageFromFile'))])
    assert len(ds) == 2
    assert ds[0]['img'].shape == (32, 32, 3)
    with pytest.raises(Exception, match=re.escape(str(corrupt))):
        ds[1]
