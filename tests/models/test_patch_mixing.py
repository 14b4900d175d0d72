"""PatchMixing: grid-aligned box, area-weighted target, recorded sources,
and the hand-off through DiverseDataPreprocessor."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.utils import RandomBatchAugment
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401


def _batch(batch_size=4, size=32, num_classes=5):
    # every image is constant = its batch index, so mixed pixels reveal
    # their source
    inputs = torch.arange(batch_size, dtype=torch.float).view(-1, 1, 1, 1)
    inputs = inputs.expand(-1, 3, size, size).clone()
    labels = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])[:batch_size]
    return inputs, F.one_hot(labels, num_classes).float()


@pytest.mark.parametrize('seed', range(6))
def test_sources_match_pixels_and_grid(seed):
    np.random.seed(seed)
    mixing = BATCH_AUGMENTS.build(dict(type='PatchMixing', patch_size=8))
    inputs, scores = _batch()
    mixed, mixed_scores = mixing(inputs.clone(), scores)
    source = mixing.last_record.patch_source
    assert source.shape == (4, 4, 4) and source.dtype == torch.long
    # each 8x8 cell is constant and equals its recorded source index
    cells = mixed[:, 0].unfold(1, 8, 8).unfold(2, 8, 8)  # (B, 4, 4, 8, 8)
    assert torch.equal(cells.amin(dim=(-1, -2)), cells.amax(dim=(-1, -2)))
    assert torch.equal(cells[..., 0, 0].long(), source)
    # partner = flipped batch
    own = torch.arange(4).view(-1, 1, 1)
    assert torch.all((source == own) | (source == 3 - own))
    # target weight = fraction of patches kept from the image itself
    kept = (source == own).float().mean(dim=(1, 2))
    expected = kept[:, None] * scores + (1 - kept[:, None]) * scores.flip(0)
    assert torch.allclose(mixed_scores, expected)
    assert torch.equal(mixing.last_record.source_score, scores)


def test_box_is_a_rectangle_of_whole_cells():
    np.random.seed(3)
    mixing = BATCH_AUGMENTS.build(dict(type='PatchMixing', patch_size=4))
    inputs, scores = _batch(batch_size=2, size=32)
    swaps = 0
    for _ in range(10):
        mixed, _ = mixing(inputs.clone(), scores)
        swapped = mixing.last_record.patch_source[0] == 1  # (8, 8)
        if not swapped.any():
            continue
        swaps += 1
        rows = swapped.any(1).nonzero().flatten()
        cols = swapped.any(0).nonzero().flatten()
        box = swapped[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all() and swapped.sum() == box.numel()
        # the pixels moved are exactly those whole 4x4 cells
        from_partner = mixed[0, 0] == 1.  # image 1 is constant 1
        cells = swapped.repeat_interleave(4, 0).repeat_interleave(4, 1)
        assert torch.equal(from_partner, cells)
    # a test of the box shape means nothing without boxes: most Beta(1, 1)
    # draws give one (only lam close to 1 rounds the box away)
    assert swaps >= 5


def test_rejects_size_not_multiple_of_patch():
    mixing = BATCH_AUGMENTS.build(dict(type='PatchMixing', patch_size=16))
    inputs, scores = _batch(size=24)
    with pytest.raises(ValueError, match='patch_size=16'):
        mixing(inputs, scores)


def test_composes_with_random_batch_augment():
    np.random.seed(0)
    augment = RandomBatchAugment(
        [dict(type='CutMix', alpha=1.), dict(type='PatchMixing', alpha=1.,
                                             patch_size=8)],
        probs=[0.5, 0.5])
    inputs, scores = _batch()
    for _ in range(4):
        mixed, mixed_scores = augment(inputs.clone(), scores)
        assert mixed.shape == inputs.shape and mixed_scores.shape == (4, 5)


def test_preprocessor_writes_sources_into_data_samples():
    np.random.seed(1)
    preprocessor = MODELS.build(
        dict(type='DiverseDataPreprocessor', num_classes=5,
             batch_augments=dict(augments=dict(type='PatchMixing',
                                               patch_size=8))))
    inputs, scores = _batch()
    samples = [DataSample().set_gt_label(int(s.argmax())) for s in scores]
    out = preprocessor(dict(inputs=inputs.clone(), data_samples=samples), True)
    mixer = preprocessor.batch_augments.augments[0]
    assert mixer.last_record is None  # popped
    for b, sample in enumerate(out['data_samples']):
        cells = out['inputs'][b, 0, ::8, ::8].long()
        assert torch.equal(sample.patch_source, cells)
        assert torch.equal(sample.unmixed_score, scores[b])
        kept = (sample.patch_source == b).float().mean()
        assert torch.allclose(sample.gt_score,
                              kept * scores[b] + (1 - kept) * scores[3 - b])
    # evaluation: no batch augment, no fields
    samples = [DataSample().set_gt_label(0) for _ in range(4)]
    out = preprocessor(dict(inputs=inputs.clone(), data_samples=samples))
    assert 'patch_source' not in out['data_samples'][0]
