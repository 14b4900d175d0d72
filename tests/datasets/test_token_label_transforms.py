"""Token-label transforms: the label map follows the image's crop and flip."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import DATASETS, MODELS, TRANSFORMS

import mmvitreg  # noqa: F401  (registers the transforms)
from mmvitreg.structures.token_labels import (
    ShardWriter,
    merge_index,
    read_manifests,
)

H_IMG, W_IMG = 96, 128  # non-square so that an x/y swap shows
K = 16


def position_image() -> np.ndarray:
    """Channel 0 = column index, channel 1 = row index of each pixel."""
    ys, xs = np.mgrid[0:H_IMG, 0:W_IMG]
    return np.stack([xs, ys, np.zeros_like(xs)], -1).astype(np.uint8)


def position_map(axis: str, other: int = 6, k: int = 3):
    """Top-k map whose top-1 class is the column (or row) index.

    Columns: shape ``(k, other, K)``, location ``(y, x)`` holds classes
    ``x, x+1, x+2 (mod K)`` with scores ``5, 1, 0``.
    """
    h, w = (other, K) if axis == 'x' else (K, other)
    ys, xs = np.mgrid[0:h, 0:w]
    pos = xs if axis == 'x' else ys
    indices = np.stack([(pos + j) % K for j in range(k)]).astype(np.int16)
    scores = np.broadcast_to(
        np.array([5.0, 1.0, 0.0][:k], np.float16)[:, None, None],
        indices.shape).copy()
    return scores, indices


def build_pipeline(cfgs) -> Compose:
    return Compose([TRANSFORMS.build(c) for c in cfgs])


def pipeline(grid=(14, 10), scale=(28, 20), **align_kwargs):
    return build_pipeline([
        dict(type='RandomResizedCropWithBox', scale=scale),
        dict(
            type='RandomFlip',
            prob=0.75,
            direction=['horizontal', 'vertical', 'diagonal']),
        dict(type='AlignTokenLabel', grid=grid, num_classes=K,
             **align_kwargs),
    ])


@pytest.mark.parametrize('axis', ['x', 'y'])
def test_argmax_follows_crop_and_flip(axis):
    """At every token, argmax = class of the token's source location.

    The source location is read from the transformed IMAGE itself (its
    pixels encode their original coordinates), so the test checks the label
    map against what happened to the image, not against the recorded box.
    """
    scores, indices = position_map(axis)
    pipe = pipeline()
    channel, extent = (0, W_IMG) if axis == 'x' else (1, H_IMG)
    flips = set()
    for seed in range(60):
        np.random.seed(seed)
        res = pipe(
            dict(
                img=position_image(),
                token_label_scores=scores,
                token_label_indices=indices))
        flips.add(res['flip_direction'])
        target = res['token_label']
        assert target.shape == (K, 14, 10)
        img = res['img'].astype(np.float64)
        # each token covers 2x2 output pixels; its centre's source position
        # is the mean value of those pixels (+0.5: pixel c encodes c's centre)
        src = img[:, :, channel].reshape(14, 2, 10, 2).mean((1, 3)) + 0.5
        expected = np.floor(src / extent * K).clip(0, K - 1)
        got = target.argmax(0).numpy()
        assert np.abs(got - expected).max() <= 1, (seed, res['crop_bbox'],
                                                   res['flip_direction'])
        # and most tokens match exactly
        assert (got == expected).mean() > 0.6, seed
    assert flips == {None, 'horizontal', 'vertical', 'diagonal'}


def test_recorded_box_matches_image():
    """The box that RandomResizedCropWithBox records is the region cropped:
    the output's first/last pixels encode the box edges."""
    crop = TRANSFORMS.build(
        dict(type='RandomResizedCropWithBox', scale=(48, 64)))
    for seed in range(20):
        np.random.seed(seed)
        res = crop(dict(img=position_image()))
        x1, y1, x2, y2 = res['crop_bbox']
        assert res['crop_src_shape'] == (H_IMG, W_IMG)
        assert 0 <= x1 < x2 <= W_IMG and 0 <= y1 < y2 <= H_IMG
        img = res['img'].astype(float)
        # mean column value over the output = centre of the box (- 0.5)
        assert abs(img[:, :, 0].mean() + 0.5 - (x1 + x2) / 2) < 1.0
        assert abs(img[:, :, 1].mean() + 0.5 - (y1 + y2) / 2) < 1.0
    # same draws as the parent class: the recorded box is not a new draw
    parent = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=(48, 64)))
    np.random.seed(3)
    a = parent(dict(img=position_image()))['img']
    np.random.seed(3)
    b = crop(dict(img=position_image()))['img']
    np.testing.assert_array_equal(a, b)


def test_crop_after_flip_is_refused():
    pipe = build_pipeline([
        dict(type='RandomFlip', prob=1.0),
        dict(type='RandomResizedCropWithBox', scale=8)
    ])
    with pytest.raises(ValueError, match='before RandomFlip'):
        pipe(dict(img=position_image()))


def _align(scores, indices, results=None, **kwargs):
    kwargs.setdefault('num_classes', 4)
    t = TRANSFORMS.build(dict(type='AlignTokenLabel', **kwargs))
    return t(
        dict(
            token_label_scores=np.asarray(scores, np.float16),
            token_label_indices=np.asarray(indices, np.int16),
            **(results or {})))['token_label']


def test_expand_softmax_hand_checked():
    # one location, top-2 classes 3 (score 2) and 1 (score 0)
    out = _align([[[2.0]], [[0.0]]], [[[3]], [[1]]], grid=(1, 1))
    e = np.exp(2.0)
    np.testing.assert_allclose(
        out[:, 0, 0].numpy(), [0, 1 / (1 + e), 0, e / (1 + e)], rtol=1e-6)
    raw = _align([[[2.0]], [[0.0]]], [[[3]], [[1]]], grid=(1, 1),
                 softmax=False)
    np.testing.assert_allclose(raw[:, 0, 0].numpy(), [0, 0, 0, 2])


def test_bilinear_upsampling_hand_checked():
    # 1x2 map, class 0 on the left, class 2 on the right; 1x4 grid samples
    # map x = 0.25, 0.75, 1.25, 1.75 (centres at 0.5, 1.5): left weights
    # 1, 0.75, 0.25, 0 (clamped at the border)
    out = _align([[[1.0, 1.0]]], [[[0, 2]]], grid=(1, 4))
    np.testing.assert_allclose(out[0, 0].numpy(), [1, 0.75, 0.25, 0])
    np.testing.assert_allclose(out[2, 0].numpy(), [0, 0.25, 0.75, 1])
    assert out[[1, 3]].abs().max() == 0
    np.testing.assert_allclose(out.sum(0).numpy(), 1.0, rtol=1e-6)


def test_crop_box_and_flip_hand_checked():
    # 1x4 map of classes 0..3; crop the right half of an 8-px-wide image
    # (map x in [2, 4]) to a 1x2 grid -> classes 2, 3; flipped -> 3, 2
    scores, indices = [[[1.0] * 4]], [[[0, 1, 2, 3]]]
    res = dict(crop_bbox=np.array([4, 0, 8, 1], np.float32),
               crop_src_shape=(1, 8))
    out = _align(scores, indices, grid=(1, 2), results=dict(res))
    assert out[:, 0].argmax(0).tolist() == [2, 3]
    np.testing.assert_allclose(out[2:, 0].numpy(), np.eye(2))
    res.update(flip=True, flip_direction='horizontal')
    out = _align(scores, indices, grid=(1, 2), results=res)
    assert out[:, 0].argmax(0).tolist() == [3, 2]


def test_class_out_of_range_names_image():
    t = TRANSFORMS.build(dict(type='AlignTokenLabel', grid=2, num_classes=3))
    with pytest.raises(ValueError, match='a/b.JPEG.*class 5'):
        t(dict(img_path='a/b.JPEG',
               token_label_scores=np.ones((1, 2, 2), np.float16),
               token_label_indices=np.full((1, 2, 2), 5, np.int16)))


def _write_store(root, keys, k=2, hw=(4, 4), num_classes=10):
    rng = np.random.default_rng(0)
    w = ShardWriter(root, topk=k, num_classes=num_classes, shard_size=50)
    for key in keys:
        idx = np.stack([rng.permutation(num_classes)[:k]
                        for _ in range(hw[0] * hw[1])], -1)
        w.add(key, rng.normal(size=(k, *hw)).astype(np.float16),
              idx.reshape(k, *hw).astype(np.int16))
    w.close()
    merge_index(root, read_manifests(root))


def test_digits_pipeline_packs_token_label(digits_root, tmp_path):
    """Real dataset + PackInputs(algorithm_keys) + data preprocessor: the
    model side gets ``(B, K, Ht, Wt)`` from the data samples."""
    imagenet = osp.join(digits_root, 'imagenet')
    with open(osp.join(imagenet, 'meta/train.txt')) as f:
        keys = [line.split()[0] for line in f][:8]
    store = str(tmp_path / 'store')
    _write_store(store, keys)
    ann = tmp_path / 'train8.txt'
    ann.write_text(''.join(f'{k} 0\n' for k in keys))
    dataset = DATASETS.build(
        dict(
            type='ImageNetFolder',
            data_root=imagenet,
            data_prefix='train',
            ann_file=str(ann),
            classes=[str(i) for i in range(10)],
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTokenLabel', store_root=store),
                dict(type='RandomResizedCropWithBox', scale=32),
                dict(type='RandomFlip', prob=0.5),
                dict(type='AlignTokenLabel', grid=(4, 4), num_classes=10),
                dict(type='PackInputs', algorithm_keys=['token_label']),
            ]))
    batch = pseudo_collate([dataset[i] for i in range(4)])
    pre = MODELS.build(dict(type='ClsDataPreprocessor', num_classes=10))
    data = pre(batch, training=True)
    labels = torch.stack([ds.token_label for ds in data['data_samples']])
    assert labels.shape == (4, 10, 4, 4)
    torch.testing.assert_close(labels.sum(1), torch.ones(4, 4, 4))
    # each token has at most k * 4 (bilinear neighbours) non-zero classes
    assert ((labels > 0).sum(1) <= 8).all()


def test_missing_label_names_image_and_store(digits_root, tmp_path):
    store = str(tmp_path / 'store')
    _write_store(store, ['n00000000/digit_00000.JPEG'])
    load = TRANSFORMS.build(dict(type='LoadTokenLabel', store_root=store))
    ok = load(dict(img_path='/x/train/n00000000/digit_00000.JPEG'))
    assert ok['token_label_scores'].shape == (2, 4, 4)
    with pytest.raises(KeyError, match=r'digit_00010\.JPEG.*store'):
        load(dict(img_path='/x/train/n00000000/digit_00010.JPEG'))
    with pytest.raises(FileNotFoundError, match='index.json'):
        TRANSFORMS.build(
            dict(type='LoadTokenLabel', store_root=str(tmp_path / 'none')))


def test_resampling_equals_torchvision_roi_align():
    """The separable resampling is torchvision's ``roi_align(aligned=True)``
    (adaptive sampling): random boxes, up- and down-sampling, (x, y) order."""
    from torchvision.ops import roi_align

    from mmvitreg.datasets.transforms.token_label_alignment import (
        roi_align_weights,
    )
    rng = np.random.default_rng(0)
    m = rng.random((3, 9, 13)).astype(np.float32)  # (C, H', W')
    for _ in range(50):
        x1, x2 = np.sort(rng.uniform(0, 13, 2))
        y1, y2 = np.sort(rng.uniform(0, 9, 2))
        ht, wt = rng.integers(1, 16, 2)
        ref = roi_align(
            torch.from_numpy(m)[None],
            torch.tensor([[0, x1, y1, x2, y2]], dtype=torch.float32),
            (int(ht), int(wt)), spatial_scale=1.0, sampling_ratio=-1,
            aligned=True)[0].numpy()
        ours = (roi_align_weights(y1, y2, 9, ht) @ m @
                roi_align_weights(x1, x2, 13, wt).T)
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)


# ------------------------------------------- RandAugment's geometric ops
PAD = (0, 0, 255)  # channel 2 marks the padding the warps bring in
GEOMETRIC = [
    dict(type='TrackedRotate', magnitude_range=(0, 30), pad_val=PAD),
    dict(type='TrackedShear', magnitude_range=(0, 0.3),
         direction='horizontal', pad_val=PAD),
    dict(type='TrackedShear', magnitude_range=(0, 0.3), direction='vertical',
         pad_val=PAD),
    dict(type='TrackedTranslate', magnitude_range=(0, 0.45),
         direction='horizontal', pad_val=PAD),
    dict(type='TrackedTranslate', magnitude_range=(0, 0.45),
         direction='vertical', pad_val=PAD),
]


def geometric_pipeline(expand='transform'):
    return build_pipeline([
        dict(type='RandomResizedCropWithBox', scale=(28, 20),
             interpolation='nearest'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandAugment', policies=GEOMETRIC, num_policies=2,
             magnitude_level=9, magnitude_std=0.5, total_level=10),
        dict(type='AlignTokenLabel', grid=(14, 10), num_classes=K,
             expand=expand),
    ])


@pytest.mark.parametrize('op', GEOMETRIC, ids=lambda o: o['type'] + o.get(
    'direction', ''))
def test_tracked_op_records_the_warp_it_applied(op):
    """Each output pixel holds its source position (the position image):
    it equals A^-1 applied to the pixel, A the recorded affine."""
    t = TRANSFORMS.build(dict(op, prob=1.0, interpolation='nearest'))
    for seed in range(5):
        np.random.seed(seed)
        res = t(dict(img=position_image()))
        (a, ) = res['geometric_affines']
        img = res['img'].astype(float)
        inv = np.linalg.inv(np.vstack([a, [0, 0, 1]]))
        ys, xs = np.mgrid[0:H_IMG, 0:W_IMG]
        src = np.tensordot(inv, np.stack([xs, ys, np.ones_like(xs)]), 1)
        inside = (img[..., 2] == 0) & (src[0] > 1) & (src[1] > 1) & (
            src[0] < W_IMG - 2) & (src[1] < H_IMG - 2)
        assert inside.mean() > 0.3
        assert np.abs(img[..., 0] - src[0])[inside].max() <= 1.0
        assert np.abs(img[..., 1] - src[1])[inside].max() <= 1.0


def test_disabled_op_records_nothing():
    t = TRANSFORMS.build(dict(GEOMETRIC[0], prob=0.0))
    assert 'geometric_affines' not in t(dict(img=position_image()))


@pytest.mark.parametrize('axis', ['x', 'y'])
def test_argmax_follows_crop_flip_and_randaugment_warps(axis):
    """As test_argmax_follows_crop_and_flip, with two of RandAugment's
    rotate/shear/translate after the flip: tokens showing image content keep
    the label of their source; tokens showing only padding get none."""
    scores, indices = position_map(axis)
    channel, extent = (0, W_IMG) if axis == 'x' else (1, H_IMG)
    checked = 0
    for seed in range(40):
        np.random.seed(seed)
        res = geometric_pipeline()(dict(img=position_image(),
                                        token_label_scores=scores,
                                        token_label_indices=indices))
        target = res['token_label'].numpy()
        img = res['img'].astype(np.float64)
        padded = (img[..., 2] > 0).reshape(14, 2, 10, 2).any((1, 3))
        src = img[:, :, channel].reshape(14, 2, 10, 2).mean((1, 3)) + 0.5
        expected = np.floor(src / extent * K).clip(0, K - 1)
        full = (target.sum(0) > 0.99) & ~padded
        got = target.argmax(0)
        assert np.abs(got - expected)[full].max() <= 1, seed
        checked += full.sum()
        # a token whose 2x2 pixels are all padding has (almost) no label
        all_pad = (img[..., 2] > 0).reshape(14, 2, 10, 2).all((1, 3))
        assert (target.sum(0)[all_pad] < 0.75).all(), seed
    assert checked > 40 * 140 * 0.5


def test_tracked_op_after_alignment_is_refused():
    scores, indices = position_map('x')
    pipe = build_pipeline([
        dict(type='AlignTokenLabel', grid=(14, 10), num_classes=K),
        dict(GEOMETRIC[0], prob=1.0),
    ])
    with pytest.raises(ValueError, match='after RandAugment'):
        pipe(dict(img=position_image(), token_label_scores=scores,
                  token_label_indices=indices))


def test_affine_resampling_equals_grid_sample():
    from mmvitreg.datasets.transforms.token_label_alignment import (
        affine_resample_matrix,
    )
    from mmvitreg.structures.token_labels.batch_expand import warp_affine
    rng = np.random.default_rng(0)
    maps = rng.random((3, 7, 5)).astype(np.float32)
    for _ in range(20):
        a = np.eye(3)[:2] + rng.normal(0, 0.3, (2, 3)) * [1, 1, 3]
        ours = (maps.reshape(3, -1) @ affine_resample_matrix(a, (7, 5)).T)
        ref = warp_affine(torch.from_numpy(maps)[None], [a])[0]
        np.testing.assert_allclose(ours.reshape(3, 7, 5), ref.numpy(),
                                   atol=1e-5)
