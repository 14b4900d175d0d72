"""``AlignTokenLabel(expand='batch')`` + ``expand_token_labels``: the same
targets as the per-sample path, built per batch on the model side."""
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
    TokenLabelCrop,
    expand_token_labels,
    merge_index,
    read_manifests,
)
from mmvitreg.structures.token_labels.batch_expand import per_sample_classes

K = 16


def random_map(rng, k=3, hw=(6, 9)):
    """Top-k map with distinct classes per location."""
    idx = np.argsort(rng.random((*hw, K)), -1)[..., :k]
    return (rng.normal(size=(k, *hw)).astype(np.float16),
            np.moveaxis(idx, -1, 0).astype(np.int16))


def pipeline(expand):
    return Compose([
        TRANSFORMS.build(c) for c in [
            dict(type='RandomResizedCropWithBox', scale=(28, 20)),
            dict(type='RandomFlip', prob=0.75,
                 direction=['horizontal', 'vertical', 'diagonal']),
            dict(type='AlignTokenLabel', grid=(7, 5), num_classes=K,
                 expand=expand),
        ]
    ])


def test_batch_expansion_equals_per_sample_alignment():
    """Random maps, crops and all flip directions: per batch == per sample.
    The batch's class union is larger than any one sample's classes, which
    the expansion must handle."""
    rng = np.random.default_rng(0)
    img = np.zeros((48, 64, 3), np.uint8)
    per_sample, batch, flips = [], [], set()
    for seed in range(24):
        scores, indices = random_map(rng)
        for expand, out in (('transform', per_sample), ('batch', batch)):
            np.random.seed(seed)  # same crop and flip draw for both
            res = pipeline(expand)(dict(img=img, token_label_scores=scores,
                                        token_label_indices=indices))
            out.append(res['token_label'])
        flips.add(res['flip_direction'])
    assert flips == {None, 'horizontal', 'vertical', 'diagonal'}
    assert isinstance(batch[0], TokenLabelCrop)
    assert batch[0].scores.dtype == np.float16  # compact in the loader
    got = expand_token_labels(batch)
    assert got.shape == (24, K, 7, 5) and got.dtype == torch.float32
    torch.testing.assert_close(got, torch.stack(per_sample), rtol=1e-4,
                               atol=1e-5)
    torch.testing.assert_close(got.sum(1), torch.ones(24, 7, 5))


def test_hand_checked_crop_and_flip():
    """One location per class column: a 1x4 map whose top-1 class is the
    column index, cropped to columns [1, 3) and flipped: tokens read
    classes (2, 1) left to right, and [0.5 0.5] at a half-pixel offset."""
    scores = np.array([[[9.0, 9.0, 9.0, 9.0]]], np.float16)  # k = 1
    indices = np.array([[[0, 1, 2, 3]]], np.int16)
    crop = TokenLabelCrop(scores, indices, box=(1.0, 0.0, 3.0, 1.0),
                          hflip=True, vflip=False, grid=(1, 2),
                          num_classes=4)
    target = expand_token_labels([crop])[0, :, 0]  # (K, Wt)
    expected = torch.zeros(4, 2)
    expected[2, 0] = expected[1, 1] = 1.0
    torch.testing.assert_close(target, expected)
    shifted = TokenLabelCrop(scores, indices, box=(1.0, 0.0, 2.0, 1.0),
                             hflip=False, vflip=False, grid=(1, 1),
                             num_classes=4)
    # one bin over [1, 2): its single sample at x = 1.5 - 0.5 = pixel 1
    torch.testing.assert_close(
        expand_token_labels([shifted])[0, :, 0, 0],
        torch.tensor([0.0, 1.0, 0.0, 0.0]))


def test_per_sample_classes_hand_checked():
    idx = torch.tensor([[3, 1, 3, 7], [2, 2, 2, 2]])
    classes, slots = per_sample_classes(idx)
    assert classes.tolist() == [[1, 3, 7], [2, 0, 0]]  # padded with 0
    assert slots.tolist() == [[1, 0, 1, 2], [0, 0, 0, 0]]
    assert torch.equal(classes.gather(1, slots), idx)


def test_mixed_batches_are_refused_with_the_reason():
    rng = np.random.default_rng(1)
    a = TokenLabelCrop(*random_map(rng), (0, 0, 9, 6), False, False, (7, 5),
                       K)
    b = TokenLabelCrop(*random_map(rng), (0, 0, 9, 6), False, False, (3, 3),
                       K)
    with pytest.raises(ValueError, match='disagree on grid'):
        expand_token_labels([a, b])
    c = TokenLabelCrop(*random_map(rng, hw=(4, 4)), (0, 0, 4, 4), False,
                       False, (7, 5), K)
    with pytest.raises(ValueError, match='different shapes'):
        expand_token_labels([a, c])
    bad = TokenLabelCrop(a.scores, a.indices + K, a.box, False, False,
                         (7, 5), K)
    with pytest.raises(ValueError, match=r'outside \[0, 16\)'):
        expand_token_labels([bad])


def test_expand_option_is_checked():
    with pytest.raises(ValueError, match="'transform' or 'batch'"):
        TRANSFORMS.build(dict(type='AlignTokenLabel', expand='loader'))


def test_digits_batch_path_through_classifier(digits_root, tmp_path):
    """Real dataset, worker-free loader, data preprocessor and
    ``TokenLabelingClassifier``: the compact labels survive packing and
    device casting, and the classifier's targets are the dense ones."""
    imagenet = osp.join(digits_root, 'imagenet')
    with open(osp.join(imagenet, 'meta/train.txt')) as f:
        keys = [line.split()[0] for line in f][:4]
    store = str(tmp_path / 'store')
    rng = np.random.default_rng(0)
    w = ShardWriter(store, topk=2, num_classes=10, shard_size=8)
    for key in keys:
        idx = np.argsort(rng.random((4, 4, 10)), -1)[..., :2]
        w.add(key, rng.normal(size=(2, 4, 4)).astype(np.float16),
              np.moveaxis(idx, -1, 0).astype(np.int16))
    w.close()
    merge_index(store, read_manifests(store))

    def samples(expand):
        dataset = DATASETS.build(
            dict(type='ImageNetFolder', data_root=imagenet,
                 data_prefix='train', ann_file='meta/train.txt',
                 indices=4,
                 pipeline=[
                     dict(type='LoadImageFromFile'),
                     dict(type='LoadTokenLabel', store_root=store),
                     dict(type='RandomResizedCropWithBox', scale=32),
                     dict(type='RandomFlip', prob=0.5),
                     dict(type='AlignTokenLabel', grid=(4, 4),
                          num_classes=10, expand=expand),
                     dict(type='PackInputs', algorithm_keys=['token_label'])
                 ]))
        np.random.seed(0)
        batch = pseudo_collate([dataset[i] for i in range(4)])
        return model.data_preprocessor(batch, training=True)['data_samples']

    model = MODELS.build(
        dict(type='TokenLabelingClassifier',
             backbone=dict(type='VisionTransformer',
                           arch=dict(embed_dims=16, num_layers=1,
                                     num_heads=2, feedforward_channels=32),
                           img_size=32, patch_size=8),
             head=dict(type='VisionTransformerClsHead', num_classes=10,
                       in_channels=16),
             dense_head=dict(type='DenseTokenHead', in_channels=16,
                             num_classes=10)))
    dense = model.token_targets(samples('transform'), torch.device('cpu'))
    compact = samples('batch')
    assert isinstance(compact[0].token_label, TokenLabelCrop)
    got = model.token_targets(compact, torch.device('cpu'))
    assert got.shape == (4, 10, 4, 4)
    torch.testing.assert_close(got, dense, rtol=1e-4, atol=1e-5)


def test_batch_expansion_replays_randaugment_warps():
    """With RandAugment's rotate/shear/translate (the Tracked* ops) between
    the flip and the alignment: per batch == per sample, warps included."""
    geometric = [
        dict(type='TrackedRotate', magnitude_range=(0, 30)),
        dict(type='TrackedShear', magnitude_range=(0, 0.3),
             direction='vertical'),
        dict(type='TrackedTranslate', magnitude_range=(0, 0.45),
             direction='horizontal'),
    ]
    rng = np.random.default_rng(2)
    img = np.zeros((48, 64, 3), np.uint8)
    per_sample, batch, warps = [], [], set()
    for seed in range(16):
        scores, indices = random_map(rng)
        for expand, out in (('transform', per_sample), ('batch', batch)):
            np.random.seed(seed)
            res = Compose([TRANSFORMS.build(c) for c in [
                dict(type='RandomResizedCropWithBox', scale=(28, 20)),
                dict(type='RandomFlip', prob=0.5),
                dict(type='RandAugment', policies=geometric, num_policies=2,
                     magnitude_level=9, total_level=10),
                dict(type='AlignTokenLabel', grid=(7, 5), num_classes=K,
                     expand=expand),
            ]])(dict(img=img, token_label_scores=scores,
                     token_label_indices=indices))
            out.append(res['token_label'])
        warps.add(len(batch[-1].affines))
    assert warps == {0, 1, 2}  # RandAugment's ops are randomly disabled
    got = expand_token_labels(batch)
    torch.testing.assert_close(got, torch.stack(per_sample), rtol=1e-4,
                               atol=1e-5)


def test_negative_class_is_named():
    rng = np.random.default_rng(3)
    scores, indices = random_map(rng)
    indices = indices.copy()
    indices[0, 0, 0] = -3
    crop = TokenLabelCrop(scores, indices, (0, 0, 9, 6), False, False,
                          (7, 5), K)
    with pytest.raises(ValueError, match=r'class -3 outside \[0, 16\)'):
        expand_token_labels([crop])
    with pytest.raises(ValueError, match=r'class -3 outside \[0, 16\)'):
        TRANSFORMS.build(dict(type='AlignTokenLabel', grid=(7, 5),
                              num_classes=K))(
            dict(token_label_scores=scores, token_label_indices=indices))
