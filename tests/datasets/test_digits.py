"""The digits writer (layouts, labels, determinism, idempotence) and the
mmseg digit-scene datasets read through mmseg's real loading pipeline."""
import glob
import hashlib
import json
import os
import os.path as osp
import re
import runpy

import cv2
import numpy as np
import pytest

from mmvitreg.datasets import digits as D
from mmvitreg.datasets.digits import prepare as digits_prepare

SMALL = dict(size=32, scene_size=64, train_scenes=24, val_scenes=8, seed=0)
TOOL = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'prepare_digits.py')


def tree_hash(root: str) -> str:
    """SHA-1 over every file's relative path and bytes (marker included)."""
    files = glob.glob(osp.join(root, '**'), recursive=True)
    files.append(osp.join(root, D.MARKER))  # glob skips dot files
    h = hashlib.sha1()
    for path in sorted(files):
        if osp.isfile(path):
            h.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


# --------------------------------------------------------------------------
# Pixels and labels, hand-checked
# --------------------------------------------------------------------------
def test_stratified_split_counts():
    _, labels = D.load_digit_scans()
    assert np.bincount(labels).tolist() == [
        178, 182, 177, 183, 181, 182, 181, 179, 174, 180
    ]
    train, val = D.stratified_split(labels, np.random.default_rng(0))
    # round(0.2 * n): 35.6->36, 36.4->36, 35.4->35, 36.6->37, 36.2->36,
    # 36.4->36, 36.2->36, 35.8->36, 34.8->35, 36.0->36
    assert np.bincount(
        labels[val]).tolist() == [36, 36, 35, 37, 36, 36, 36, 36, 35, 36]
    assert len(val) == 359 and len(train) == 1438
    assert not set(train) & set(val)


def test_ade_to_train_ids():
    ade = np.array([[0, 1, 2, 11]], dtype=np.uint8)
    assert D.ade_to_train_ids(ade).tolist() == [[255, 0, 1, 10]]


def test_pick_cells_distinct_grid_cells():
    rng = np.random.default_rng(3)
    counts = set()
    for _ in range(50):
        cells = D.pick_cells(rng, 64, 32)
        counts.add(len(cells))
        assert len(set(cells)) == len(cells)
        assert set(cells) <= {(0, 0), (0, 32), (32, 0), (32, 32)}
    assert counts == {1, 2, 3}  # never all four: background stays in view
    assert D.pick_cells(rng, 32, 32) == [(0, 0)]  # one cell: one digit
    assert len(D.pick_cells(rng, 96, 32)) <= 8


@pytest.mark.parametrize('ink,expected', [(1.0, {1, 2 + 4}), (0.375, {0, 1}),
                                          (0.1, {1})])
def test_render_scene_labels_follow_thresholds(ink, expected):
    # A constant scan upsamples to a constant box: full ink -> digit label
    # 2 + d, ink between 0.25 and 0.5 -> 0 (ambiguous), below -> background.
    scans = np.full((1, 8, 8), ink, np.float32)
    img, mask = D.render_scene(
        np.random.default_rng(0), scans, np.array([4]), np.array([0]), 64)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    assert mask.shape == (64, 64) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == expected
    if ink == 1.0:
        # pure grey ink of intensity 200-255, the same in every channel
        digit = img[mask == 6]
        assert digit.min() >= 200
        assert (digit == digit[:, :1]).all()
        # whole 32 px cells of the 2x2 grid, 1 to 3 of them
        assert (mask == 6).sum() in (1024, 2048, 3072)
        cells = (mask == 6).reshape(2, 32, 2, 32).all((1, 3))
        assert (mask == 6).sum() == 1024 * cells.sum()


def test_render_scene_uses_only_the_pool():
    scans, labels = D.load_digit_scans()
    pool = np.flatnonzero(labels == 7)
    rng = np.random.default_rng(1)
    for _ in range(10):
        _, mask = D.render_scene(rng, scans, labels, pool, 64)
        assert set(np.unique(mask).tolist()) <= {0, 1, 2 + 7}
        assert (mask == 2 + 7).any()


# --------------------------------------------------------------------------
# Layouts on disk
# --------------------------------------------------------------------------
def test_imagenet_layout(digits_root):
    root = osp.join(digits_root, 'imagenet')
    assert read_lines(osp.join(root, 'meta',
                               'classes.txt')) == list(D.DIGIT_CLASSES)
    scans, labels = D.load_digit_scans()
    seen = {}
    for split, count in (('train', 1438), ('val', 359)):
        lines = read_lines(osp.join(root, 'meta', f'{split}.txt'))
        assert len(lines) == count and lines == sorted(lines)
        for line in lines:
            m = re.fullmatch(r'(n0000000(\d))/digit_(\d{5})\.JPEG (\d)', line)
            assert m, line
            assert m.group(2) == m.group(4)  # folder wnid == label
            idx = int(m.group(3))
            assert labels[idx] == int(m.group(4)) and idx not in seen
            seen[idx] = split
        files = glob.glob(osp.join(root, split, 'n*', '*.JPEG'))
        assert len(files) == count
        assert sorted(os.listdir(osp.join(root, split))) == list(D.WNIDS)
    assert len(seen) == 1797
    # Pixels: grey v/16 * 255, bicubic to 32 px, RGB JPEG (quality 95).
    rel = read_lines(osp.join(root, 'meta', 'val.txt'))[0].split()[0]
    img = cv2.imread(osp.join(root, 'val', rel), cv2.IMREAD_UNCHANGED)
    assert img.shape == (32, 32, 3)
    idx = int(rel[-10:-5])
    want = D.upscale(scans[idx], 32) * 255
    assert np.abs(img[..., 1].astype(float) - want).mean() < 3
    assert img[..., 1].max() > 200 and img[..., 1].min() < 20


def scene_files(digits_root, split):
    ade = osp.join(digits_root, 'ade', 'ADEChallengeData2016')
    ade_split = dict(train='training', val='validation')[split]
    city = osp.join(digits_root, 'cityscapes')
    imgs = sorted(glob.glob(osp.join(ade, 'images', ade_split, '*.jpg')))
    out = []
    for i, img in enumerate(imgs, 1):
        assert osp.basename(img) == f'ADE_{split}_{i:08d}.jpg'
        town = D.CITIES[(i - 1) % 2]
        stem = osp.join(split, town, f'{town}_000000_{i:06d}')
        out.append((img,
                    osp.join(ade, 'annotations', ade_split,
                             f'ADE_{split}_{i:08d}.png'),
                    osp.join(city, 'leftImg8bit', stem + '_leftImg8bit.png'),
                    osp.join(city, 'gtFine',
                             stem + '_gtFine_labelTrainIds.png')))
    return out


@pytest.mark.parametrize('split,count', [('train', 24), ('val', 8)])
def test_scene_layouts_agree(digits_root, split, count):
    files = scene_files(digits_root, split)
    assert len(files) == count
    for ade_img, ade_ann, city_img, city_ann in files:
        a_img = cv2.imread(ade_img, cv2.IMREAD_UNCHANGED)
        a_ann = cv2.imread(ade_ann, cv2.IMREAD_UNCHANGED)
        c_img = cv2.imread(city_img, cv2.IMREAD_UNCHANGED)
        c_ann = cv2.imread(city_ann, cv2.IMREAD_UNCHANGED)
        assert a_img.shape == c_img.shape == (64, 64, 3)
        assert a_ann.shape == c_ann.shape == (64, 64)
        assert a_ann.dtype == c_ann.dtype == np.uint8
        assert set(np.unique(a_ann).tolist()) <= set(range(12))
        assert (a_ann >= 2).any() and (a_ann == 1).any()
        # same scene (JPEG vs lossless PNG: compare at low frequencies, the
        # pixel noise does not survive chroma subsampling), same labels
        blur = [
            cv2.GaussianBlur(x.astype(np.float32), (5, 5), 0)
            for x in (a_img, c_img)
        ]
        assert np.abs(blur[0] - blur[1]).mean() < 2
        np.testing.assert_array_equal(D.ade_to_train_ids(a_ann), c_ann)
        # digits are brighter than the background they sit on
        grey = c_img.mean(-1)
        assert grey[(c_ann >= 1) & (c_ann <= 10)].mean() > (
            grey[c_ann == 0].mean() + 50)


# --------------------------------------------------------------------------
# Determinism, idempotence, failure handling
# --------------------------------------------------------------------------
def test_same_arguments_same_bytes(digits_root, tmp_path):
    again = D.prepare_digits(str(tmp_path / 'a'), **SMALL)['root']
    assert tree_hash(again) == tree_hash(digits_root)
    other = D.prepare_digits(str(tmp_path / 'b'), **dict(SMALL, seed=1))
    assert tree_hash(other['root']) != tree_hash(digits_root)
    # nothing but the finished trees is left next to them
    assert sorted(os.listdir(tmp_path)) == ['a', 'b']


def test_idempotent_and_force(tiny_digits_root):
    root = tiny_digits_root
    marker = osp.join(root, D.MARKER)
    before = os.stat(marker).st_mtime_ns
    paths = D.prepare_digits(root, **SMALL)  # same arguments: skipped
    assert os.stat(marker).st_mtime_ns == before
    assert paths['ade'] == osp.join(root, 'ade', 'ADEChallengeData2016')
    assert paths['imagenet'] == osp.join(root, 'imagenet')
    assert paths['cityscapes'] == osp.join(root, 'cityscapes')

    with pytest.raises(FileExistsError, match=r'val_scenes=8.*val_scenes=4'):
        D.prepare_digits(root, **dict(SMALL, val_scenes=4))
    D.prepare_digits(root, **dict(SMALL, val_scenes=4), force=True)
    with open(marker) as f:
        assert json.load(f)['args']['val_scenes'] == 4
    ade_val = osp.join(paths['ade'], 'images', 'validation')
    assert len(os.listdir(ade_val)) == 4
    assert sorted(os.listdir(osp.dirname(root))) == ['digits']


def test_incomplete_or_foreign_folders_are_not_reused(tmp_path):
    partial = tmp_path / 'partial'
    (partial / 'imagenet').mkdir(parents=True)  # no marker: not complete
    with pytest.raises(FileExistsError, match='no complete tree'):
        D.prepare_digits(str(partial), **SMALL)
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'thesis.tex').write_text('precious')
    with pytest.raises(FileExistsError, match='thesis.tex'):
        D.prepare_digits(str(foreign), **SMALL, force=True)
    assert (foreign / 'thesis.tex').read_text() == 'precious'
    with pytest.raises(ValueError, match='train_scenes must be >= 1'):
        D.prepare_digits(str(tmp_path / 'x'), **dict(SMALL, train_scenes=0))


def test_failure_leaves_nothing_marked_complete(tmp_path, monkeypatch):

    def broken(*args, **kwargs):
        raise RuntimeError('disk full')

    # prepare_digits calls it from its own module
    monkeypatch.setattr(digits_prepare, 'write_scenes', broken)
    with pytest.raises(RuntimeError, match='disk full'):
        D.prepare_digits(str(tmp_path / 'digits'), **SMALL)
    assert os.listdir(tmp_path) == []  # no tree, no temporary folder


def test_cli(digits_root, tmp_path, capsys):
    out = str(tmp_path / 'digits')
    argv = ['--out', out, '--train-scenes', '24', '--val-scenes', '8']
    runpy.run_path(TOOL, run_name='not_main')['main'](argv)
    assert 'imagenet_train' in capsys.readouterr().out
    assert tree_hash(out) == tree_hash(digits_root)
    with pytest.raises(SystemExit, match='--force'):
        runpy.run_path(
            TOOL, run_name='not_main')['main'](
                argv + ['--size', '16'])


# --------------------------------------------------------------------------
# mmseg datasets through mmseg's real loading pipeline
# --------------------------------------------------------------------------
def build_seg(type_, data_root, data_prefix):
    from mmseg.registry import DATASETS, TRANSFORMS
    pipeline = [
        TRANSFORMS.build(dict(type='LoadImageFromFile')),
        TRANSFORMS.build(dict(type='LoadAnnotations')),
    ]
    return DATASETS.build(
        dict(
            type=type_,
            data_root=data_root,
            data_prefix=data_prefix,
            pipeline=pipeline))


@pytest.mark.parametrize('split,count', [('train', 24), ('val', 8)])
def test_seg_datasets_read_the_files(digits_root, split, count):
    ade_split = dict(train='training', val='validation')[split]
    ade = build_seg(
        'DigitScenesADE20KDataset',
        osp.join(digits_root, 'ade', 'ADEChallengeData2016'),
        dict(
            img_path=f'images/{ade_split}',
            seg_map_path=f'annotations/{ade_split}'))
    city = build_seg(
        'DigitScenesCityscapesDataset', osp.join(digits_root, 'cityscapes'),
        dict(img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'))
    assert len(ade) == len(city) == count
    classes = ('background', 'zero', 'one', 'two', 'three', 'four', 'five',
               'six', 'seven', 'eight', 'nine')
    for ds in (ade, city):
        assert ds.metainfo['classes'] == classes
        assert len(ds.metainfo['palette']) == 11
        assert ds.metainfo['label_map'] is None
    assert ade.metainfo['reduce_zero_label'] is True
    assert city.metainfo['reduce_zero_label'] is False

    # Pair ADE_<split>_<i> with <city>_000000_<i>: ADE's files after
    # reduce_zero_label must equal Cityscapes' train ids exactly.
    by_frame = {}
    for i in range(len(city)):
        r = city[i]
        frame = int(osp.basename(r['img_path']).split('_')[2])
        by_frame[frame] = r['gt_seg_map']
    for i in range(len(ade)):
        r = ade[i]
        frame = int(osp.basename(r['img_path'])[-12:-4])
        assert r['img'].shape == (64, 64, 3)
        seg = r['gt_seg_map']
        assert set(np.unique(seg).tolist()) <= set(range(11)) | {255}
        assert (seg == 0).any() and ((seg >= 1) & (seg <= 10)).any()
        np.testing.assert_array_equal(seg, by_frame[frame])
        raw = cv2.imread(r['seg_map_path'], cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(seg[raw == 1], 0)
        np.testing.assert_array_equal(seg[raw == 0], 255)
        np.testing.assert_array_equal(seg[raw >= 2], raw[raw >= 2] - 1)


def test_scene_smaller_than_a_digit_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r'scene_size \(16\) must be >= size'):
        D.prepare_digits(str(tmp_path / 'd'), size=32, scene_size=16)
