"""TokenLabelingLoss: soft-target cross entropy over all patch tokens."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import mmvitreg  # noqa: F401
from mmvitreg.models.losses import TokenLabelingLoss


def test_hand_computed_value():
    # token 1: logits (0, ln 3) -> p = (1/4, 3/4), target (1, 0): H = ln 4
    # token 2: logits (0, 0)    -> p = (1/2, 1/2), target (.5, .5): H = ln 2
    # mean over tokens = 1.5 ln 2; beta = 0.5 -> 0.75 ln 2 = 0.519860
    logits = torch.tensor([[[0., math.log(3.)], [0., 0.]]])
    targets = torch.tensor([[[1., 0.], [.5, .5]]])
    loss = TokenLabelingLoss(beta=0.5)(logits, targets)
    assert loss.item() == pytest.approx(0.75 * math.log(2.), abs=1e-6)
    assert loss.item() == pytest.approx(0.519860, abs=1e-6)


def test_matches_direct_formula_and_beta_scales():
    torch.manual_seed(0)
    logits = torch.randn(3, 10, 7)
    targets = torch.randn(3, 10, 7).softmax(-1)
    direct = -(targets * F.log_softmax(logits, -1)).sum(-1).mean()
    one = MODELS.build(dict(type='TokenLabelingLoss', beta=1.0))
    assert torch.allclose(one(logits, targets), direct, atol=1e-6)
    half = TokenLabelingLoss(beta=0.5)(logits, targets)
    assert torch.allclose(half, 0.5 * direct, atol=1e-6)
    both = TokenLabelingLoss(beta=0.5, loss_weight=2.0)(logits, targets)
    assert torch.allclose(both, direct, atol=1e-6)


def test_fp32_under_half_inputs_and_gradient():
    # 0.25 is exact in bfloat16: the loss must equal the fp32 computation
    logits = torch.randn(2, 4, 4).bfloat16().requires_grad_()
    targets = torch.full((2, 4, 4), 0.25).bfloat16()
    loss = TokenLabelingLoss(beta=1.0)(logits, targets)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(
        -(0.25 * F.log_softmax(logits.float(), -1)).sum(-1).mean().item(),
        abs=1e-5)
    loss.backward()
    assert logits.grad is not None


@pytest.mark.parametrize('logits,targets', [
    (torch.zeros(2, 5), torch.zeros(2, 5)),
    (torch.zeros(2, 4, 5), torch.zeros(2, 3, 5)),
])
def test_bad_shapes_raise(logits, targets):
    with pytest.raises(ValueError, match='TokenLabelingLoss'):
        TokenLabelingLoss()(logits, targets)
