"""Tests of SimpleRandomCrop (DeiT III SRC)."""
import mmcv
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.runner import set_random_seed
from mmpretrain.registry import TRANSFORMS

import mmvitreg  # noqa: F401  (registers the transforms; before mmseg)
from mmvitreg.datasets.transforms import SimpleRandomCrop


def checkerboard(height: int, width: int, cell: int) -> np.ndarray:
    """(height, width, 3) uint8 board of ``cell x cell`` squares, 0 / 255."""
    ys, xs = np.mgrid[:height, :width]
    board = ((ys // cell + xs // cell) % 2 * 255).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def test_keeps_aspect_ratio_on_known_pattern():
    # 40 x 80 board of 8 px squares; shorter side 40 -> 20 halves everything,
    # so the resized image must be the 20 x 40 board of 4 px squares.
    crop = SimpleRandomCrop(scale=20, padding=4, interpolation='nearest')
    expected_resized = checkerboard(20, 40, 4)
    padded = np.pad(expected_resized, ((4, 4), (4, 4), (0, 0)), 'reflect')
    set_random_seed(0)
    xs = set()
    for _ in range(30):
        results = crop(dict(img=checkerboard(40, 80, 8)))
        out = results['img']
        assert out.shape == (20, 20, 3)
        assert tuple(results['img_shape']) == (20, 20)
        assert tuple(results['scale']) == (40, 20)  # (w, h) after resize
        x1, y1, x2, y2 = results['crop_bbox']
        assert (x2 - x1, y2 - y1) == (20, 20)
        assert 0 <= y1 <= 8 and 0 <= x1 <= 40 + 8 - 20
        np.testing.assert_array_equal(out, padded[y1:y2, x1:x2])
        xs.add(x1)
    # a square crop of a non-square image can fall anywhere on the long side
    assert max(xs) > 8


def test_distorting_resize_would_be_detected():
    # guard for the test above: squashing 40 x 80 to 20 x 20 gives 4 x 2 px
    # cells, which differ from every window of the undistorted board
    squashed = mmcv.imresize(
        checkerboard(40, 80, 8), (20, 20), interpolation='nearest')
    padded = np.pad(checkerboard(20, 40, 4), ((4, 4), (4, 4), (0, 0)),
                    'reflect')
    assert not any(
        np.array_equal(squashed, padded[y:y + 20, x:x + 20])
        for y in range(9) for x in range(29))


def test_square_image_crop_coverage_and_offsets():
    size, pad = 32, 4
    crop = SimpleRandomCrop(scale=size, padding=pad)
    img = np.random.RandomState(0).randint(0, 256, (64, 64, 3), np.uint8)
    set_random_seed(1)
    offsets = set()
    for _ in range(300):
        results = crop(dict(img=img.copy()))
        x1, y1, x2, y2 = results['crop_bbox']
        padded_area = (size + 2 * pad)**2
        coverage = (x2 - x1) * (y2 - y1) / padded_area
        # (32 / 40)^2 = 0.64
        assert coverage >= (size / (size + 2 * pad))**2 - 1e-12
        assert coverage == pytest.approx(0.64)
        offsets.add((y1, x1))
    # every offset in {0..8} x {0..8} is reachable; 300 draws over 81 cells
    assert {y for y, _ in offsets} == set(range(9))
    assert {x for _, x in offsets} == set(range(9))


def test_reflect_padding_without_edge_repeat():
    # the image is already at the target size, so the resize is an identity
    # row values 10, 20, ..., 80 (width 8) reflect-padded by 2 give
    # 30 20 | 10 20 ... 80 | 70 60
    row = np.arange(1, 9, dtype=np.uint8) * 10
    img = np.repeat(np.repeat(row[None, :, None], 8, 0), 3, 2)
    crop = SimpleRandomCrop(scale=8, padding=2, interpolation='nearest')
    set_random_seed(2)
    seen = {}
    for _ in range(100):
        results = crop(dict(img=img.copy()))
        seen[results['crop_bbox'][0]] = results['img'][0, :, 0].tolist()
    assert seen[0] == [30, 20, 10, 20, 30, 40, 50, 60]
    assert seen[4] == [30, 40, 50, 60, 70, 80, 70, 60]
    assert seen[2] == row.tolist()


def test_constant_padding_mode():
    img = np.full((8, 8, 3), 200, np.uint8)
    crop = SimpleRandomCrop(scale=8, padding=2, padding_mode='constant',
                            pad_val=7, interpolation='nearest')
    set_random_seed(3)
    for _ in range(50):
        results = crop(dict(img=img.copy()))
        if results['crop_bbox'][:2] == (0, 0):
            assert results['img'][0, 0].tolist() == [7, 7, 7]
            assert results['img'][2, 2].tolist() == [200, 200, 200]
            return
    pytest.fail('offset (0, 0) never drawn in 50 tries')


def test_tall_image_and_reproducibility():
    img = np.random.RandomState(4).randint(0, 256, (90, 30, 3), np.uint8)
    crop = SimpleRandomCrop(scale=16)
    set_random_seed(5)
    first = [crop(dict(img=img.copy())) for _ in range(5)]
    set_random_seed(5)
    again = [crop(dict(img=img.copy())) for _ in range(5)]
    for a, b in zip(first, again, strict=True):
        assert a['img'].shape == (16, 16, 3)
        assert tuple(a['scale']) == (16, 48)  # 30 x 90 -> 16 x int(48.0)
        assert a['crop_bbox'] == b['crop_bbox']
        np.testing.assert_array_equal(a['img'], b['img'])


def test_bad_arguments():
    with pytest.raises(ValueError, match='scale'):
        SimpleRandomCrop(scale=0)
    with pytest.raises(ValueError, match='padding_mode'):
        SimpleRandomCrop(scale=8, padding_mode='wrap')
    with pytest.raises(ValueError, match='padding'):
        SimpleRandomCrop(scale=8, padding=-1)
    with pytest.raises(ValueError, match='img'):
        SimpleRandomCrop(scale=8)(dict())


def test_repr_and_real_pipeline(tmp_path):
    t = TRANSFORMS.build(dict(type='SimpleRandomCrop', scale=24))
    assert repr(t) == ('SimpleRandomCrop(scale=24, padding=4, '
                       'padding_mode=reflect, pad_val=0, backend=pillow, '
                       'interpolation=bicubic)')
    path = str(tmp_path / 'img.jpg')
    img = np.random.RandomState(6).randint(0, 256, (40, 60, 3), np.uint8)
    assert mmcv.imwrite(img, path)
    pipeline = Compose([
        TRANSFORMS.build(c) for c in [
            dict(type='LoadImageFromFile'),
            dict(type='SimpleRandomCrop', scale=24),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='ThreeAugment'),
            dict(type='PackInputs'),
        ]
    ])
    set_random_seed(0)
    out = pipeline(dict(img_path=path, gt_label=1))
    assert out['inputs'].shape == (3, 24, 24)
    assert out['data_samples'].gt_label.tolist() == [1]
    assert tuple(out['data_samples'].img_shape) == (24, 24)
    assert tuple(out['data_samples'].ori_shape) == (40, 60)


def test_matches_released_torchvision_ops_at_same_offset():
    # released SRC: Resize(S, bicubic) + RandomCrop(S, padding=4, reflect) on
    # RGB PIL images; compare at the offset SimpleRandomCrop drew
    from PIL import Image
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    img = np.random.RandomState(7).randint(0, 256, (50, 70, 3), np.uint8)
    set_random_seed(8)
    results = SimpleRandomCrop(scale=24)(dict(img=img.copy()))
    x1, y1, _, _ = results['crop_bbox']
    pil = Image.fromarray(img[..., ::-1])  # BGR -> RGB
    pil = TF.resize(pil, 24, interpolation=InterpolationMode.BICUBIC)
    pil = TF.pad(pil, 4, padding_mode='reflect')
    ref = np.asarray(TF.crop(pil, y1, x1, 24, 24))[..., ::-1]
    np.testing.assert_array_equal(results['img'], ref)
