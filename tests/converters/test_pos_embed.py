"""Position-embedding resizing to a segmentation input size."""
import pytest
import torch

from mmvitreg.converters import (
    grid_for_image,
    infer_grid,
    resize_grid_pos_embed,
)


def row_ramp(grid_h, grid_w, channels=4, extra=1):
    """(1, E + H*W, C): extra entries 100 + e; patch (i, j) holds i."""
    rows = torch.arange(grid_h,
                        dtype=torch.float32)[:, None].expand(grid_h, grid_w)
    patches = rows.reshape(1, -1, 1).expand(1, grid_h * grid_w, channels)
    extras = 100. + torch.arange(extra, dtype=torch.float32).reshape(
        1, extra, 1).expand(1, extra, channels)
    return torch.cat([extras, patches], dim=1)


def test_32_to_64_px_doubles_the_grid_and_keeps_the_cls_entry():
    pos = row_ramp(8, 8)  # 32 px / patch 4
    grid = grid_for_image(64, 4)
    assert grid == (16, 16)
    out = resize_grid_pos_embed(pos, grid, num_extra_tokens=1)
    assert out.shape == (1, 1 + 256, 4)
    assert torch.equal(out[:, 0], pos[:, 0])
    patch = out[0, 1:, 0].reshape(16, 16)
    # rows stay constant along columns; values still rise top to bottom
    torch.testing.assert_close(patch, patch[:, :1].expand(16, 16))
    assert (patch[1:, 0] >= patch[:-1, 0] - 1e-6).all()
    # bicubic, align_corners=False: target row r sits at source row
    # (r + 0.5) / 2 - 0.5; row 5 -> 2.25, row 8 -> 3.75. torch's cubic
    # kernel (a = -0.75) weights the 4 neighbours at t = 0.25 by
    # (-0.10547, 0.87891, 0.26172, -0.03516) (reversed at t = 0.75), so the
    # ramp is not reproduced exactly: 1w0 + 2w1 + 3w2 + 4w3 = 2.296875 and
    # 2w3 + 3w2 + 4w1 + 5w0 = 3.703125.
    torch.testing.assert_close(patch[5, 0], torch.tensor(2.296875))
    torch.testing.assert_close(patch[8, 0], torch.tensor(3.703125))


def test_no_extra_tokens_and_non_square_target():
    pos = torch.randn(1, 64, 8)  # DeiT III: patches only
    out = resize_grid_pos_embed(pos,
                                grid_for_image((64, 48), 4),
                                num_extra_tokens=0)
    assert out.shape == (1, 16 * 12, 8)


def test_constant_embedding_stays_constant_and_same_grid_is_identity():
    pos = torch.full((1, 2 + 16, 3), 0.5)
    out = resize_grid_pos_embed(pos, (6, 6), num_extra_tokens=2)
    torch.testing.assert_close(out, torch.full((1, 2 + 36, 3), 0.5))
    assert resize_grid_pos_embed(pos, 4, num_extra_tokens=2) is pos


def test_bad_grids_are_named():
    assert infer_grid(1 + 196, 1) == (14, 14)
    with pytest.raises(ValueError, match='51 positions.*50, not a square'):
        infer_grid(51, 1)
    with pytest.raises(ValueError, match='smaller than the patch'):
        grid_for_image(8, 16)
    with pytest.raises(ValueError, match=r'shape \(1, L, C\)'):
        resize_grid_pos_embed(torch.zeros(64, 8), 4, 0)
