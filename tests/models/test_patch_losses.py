"""Patch-diversification losses: hand-checked values and gradient flow."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import mmvitreg  # noqa: F401


def test_cosine_identical_patches_give_one():
    loss = MODELS.build(dict(type='PatchCosineLoss'))
    tokens = torch.randn(2, 1, 8).expand(2, 5, 8)
    assert loss(tokens).item() == pytest.approx(1.0, abs=1e-6)


def test_cosine_orthogonal_patches_give_zero():
    loss = MODELS.build(dict(type='PatchCosineLoss', loss_weight=3.0))
    tokens = (torch.eye(6)[:4] * torch.tensor([[1.], [2.], [5.], [.5]]))
    assert loss(tokens.unsqueeze(0)).item() == pytest.approx(0.0, abs=1e-7)


def test_cosine_hand_checked_and_weighted():
    # patches (1,0), (0,1), (1,1): pair cosines 0, 1/sqrt2, 1/sqrt2
    tokens = torch.tensor([[[1., 0.], [0., 1.], [1., 1.]]])
    expected = 2 * (2 / math.sqrt(2)) / (3 * 2)
    loss = MODELS.build(dict(type='PatchCosineLoss', loss_weight=0.5))
    assert loss(tokens).item() == pytest.approx(0.5 * expected, rel=1e-6)


def test_cosine_linear_form_equals_pairwise_mean():
    torch.manual_seed(0)
    tokens = torch.randn(3, 7, 5)
    unit = F.normalize(tokens, dim=-1)
    sim = unit @ unit.transpose(1, 2)
    off_diag = ~torch.eye(7, dtype=torch.bool)
    explicit = torch.stack([s[off_diag].mean() for s in sim]).mean()
    loss = MODELS.build(dict(type='PatchCosineLoss'))(tokens)
    assert loss.item() == pytest.approx(explicit.item(), abs=1e-6)


def test_cosine_rejects_single_patch():
    with pytest.raises(ValueError, match='N>=2'):
        MODELS.build(dict(type='PatchCosineLoss'))(torch.randn(2, 1, 4))


def test_contrastive_equals_log_softmax():
    torch.manual_seed(1)
    first, last = torch.randn(2, 6, 4), torch.randn(2, 6, 4)
    temperature = 0.5
    z1, zl = F.normalize(first, dim=-1), F.normalize(last, dim=-1)
    expected = 0.
    for b in range(2):
        logits = z1[b] @ zl[b].T / temperature  # [i, j] = <z1_i, zL_j>/t
        expected += -F.log_softmax(logits, dim=1).diag().mean() / 2
    loss = MODELS.build(
        dict(type='PatchContrastiveLoss', loss_weight=2.0,
             temperature=temperature))
    assert loss(first, last).item() == pytest.approx(2 * expected.item(),
                                                     rel=1e-6)


def test_contrastive_hand_checked_orthonormal():
    # z1 = zL = identity over 3 patches, t=1: -log(e / (e + 2))
    eye = torch.eye(3).unsqueeze(0)
    loss = MODELS.build(dict(type='PatchContrastiveLoss'))(eye, eye)
    expected = -math.log(math.e / (math.e + 2))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_contrastive_stops_gradient_on_first_tokens():
    first = torch.randn(2, 4, 3, requires_grad=True)
    last = torch.randn(2, 4, 3, requires_grad=True)
    MODELS.build(dict(type='PatchContrastiveLoss'))(first, last).backward()
    assert first.grad is None
    assert last.grad is not None and last.grad.abs().sum() > 0


def test_contrastive_rejects_shape_mismatch():
    with pytest.raises(ValueError, match='same shape'):
        MODELS.build(dict(type='PatchContrastiveLoss'))(
            torch.randn(1, 4, 3), torch.randn(1, 5, 3))


def test_mixing_loss_hard_and_soft_targets():
    logits = torch.tensor([[[2., 0.], [0., 0.]]])  # B=1, N=2, K=2
    hard = torch.tensor([[0, 1]])
    expected = (-math.log(math.e**2 / (math.e**2 + 1)) + math.log(2)) / 2
    loss = MODELS.build(dict(type='PatchMixingLoss', loss_weight=0.1))
    assert loss(logits, hard).item() == pytest.approx(0.1 * expected, 1e-6)
    soft = F.one_hot(hard, 2).float()
    assert loss(logits, soft).item() == pytest.approx(0.1 * expected, 1e-6)
    with pytest.raises(ValueError, match='target'):
        loss(logits, torch.zeros(1, 3, dtype=torch.long))
