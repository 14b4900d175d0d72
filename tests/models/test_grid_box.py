"""The one CutMix grid box: sizes, clipping, kept fraction, and the same
box for PatchMixing and MixToken from the same random state."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import BATCH_AUGMENTS

import mmvitreg  # noqa: F401
from mmvitreg.models.batch_augments.grid_box import (
    kept_fraction,
    sample_grid_box,
)


@pytest.mark.parametrize('lam', [0.0, 0.19, 0.5, 0.75, 0.99])
def test_box_side_and_clipping(lam):
    np.random.seed(0)
    for _ in range(50):
        y1, y2, x1, x2 = sample_grid_box((10, 6), lam)
        assert 0 <= y1 <= y2 <= 10 and 0 <= x1 <= x2 <= 6
        # unclipped side: round(10 * sqrt(1 - lam)); clipping only shrinks
        side_h = int(round(10 * (1 - lam) ** 0.5))
        side_w = int(round(6 * (1 - lam) ** 0.5))
        assert y2 - y1 <= side_h and x2 - x1 <= side_w
        if 0 < y1 and y2 < 10:
            assert y2 - y1 == side_h
        if 0 < x1 and x2 < 6:
            assert x2 - x1 == side_w


def test_kept_fraction_counts_cells():
    assert kept_fraction((4, 5), (1, 3, 0, 5)) == pytest.approx(1 - 10 / 20)
    assert kept_fraction((4, 5), (2, 2, 0, 5)) == 1.0
    assert kept_fraction((4, 5), (0, 4, 0, 5)) == 0.0


@pytest.mark.parametrize('seed', range(5))
def test_patch_mixing_and_mix_token_draw_the_same_box(seed):
    """Both draw lam ~ Beta(alpha, alpha), then the box: one sampler."""
    np.random.seed(seed)
    token_mix = BATCH_AUGMENTS.build(dict(type='MixToken')).sample((8, 8))
    np.random.seed(seed)
    mixing = BATCH_AUGMENTS.build(dict(type='PatchMixing', patch_size=4))
    mixing(torch.zeros(2, 3, 32, 32), torch.eye(2))
    from_partner = mixing.last_record.patch_source[0] == 1
    assert torch.equal(from_partner, ~token_mix.mask)
    kept = 1 - from_partner.float().mean().item()
    assert token_mix.lam == pytest.approx(kept)
