"""Tests of ThresholdedBCELoss (DeiT III BCE on binarised Mixup targets)."""
import math

import pytest
import torch
from mmengine.runner import set_random_seed
from mmpretrain.models.utils.batch_augments import Mixup
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401  (registers the loss; before mmseg)
from mmvitreg.models.losses import ThresholdedBCELoss
from mmvitreg.models.losses.binary_cross_entropy import binarize_targets

# logits x, soft (mixed) targets y
LOGITS = torch.tensor([[2.0, -1.0, 0.5], [0.0, 1.0, -2.0]])
SOFT = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


# BCE(x, t) = t * softplus(-x) + (1 - t) * softplus(x); by hand:
#   softplus(-2) = 0.126928   softplus(1) = 1.313262   softplus(0.5) = 0.974077
#   softplus(0) = 0.693147    softplus(2) = 2.126928   softplus(-1) = 0.313262
# threshold 0 -> t = [[1, 1, 0], [0, 0, 1]]:
#   (0.126928 + 1.313262 + 0.974077 + 0.693147 + 1.313262 + 2.126928) / 6
HAND_T0 = 6.547604 / 6  # 1.091267
# threshold 0.5 (or class indices [0, 2]) -> t = [[1, 0, 0], [0, 0, 1]]:
#   (0.126928 + 0.313262 + 0.974077 + 0.693147 + 1.313262 + 2.126928) / 6
HAND_T05 = 5.547604 / 6  # 0.924601


def test_hand_numbers_are_consistent():
    assert softplus(-2) == pytest.approx(0.126928, abs=1e-6)
    assert softplus(1) == pytest.approx(1.313262, abs=1e-6)
    assert softplus(0.5) == pytest.approx(0.974077, abs=1e-6)
    assert softplus(2) == pytest.approx(2.126928, abs=1e-6)


def test_soft_targets_binarised_at_zero():
    loss = ThresholdedBCELoss()(LOGITS, SOFT)
    assert loss.item() == pytest.approx(HAND_T0, abs=1e-5)
    # the un-binarised BCE is different: row 0 has t = 0.7 / 0.3, giving
    # softplus(-2) + 0.3 * 2 and softplus(-1) + 0.3 -> total 6.447604 / 6
    plain = torch.nn.functional.binary_cross_entropy_with_logits(LOGITS, SOFT)
    assert plain.item() == pytest.approx(6.447604 / 6, abs=1e-5)


def test_threshold_half_and_class_indices():
    loss = ThresholdedBCELoss(threshold=0.5)(LOGITS, SOFT)
    assert loss.item() == pytest.approx(HAND_T05, abs=1e-5)
    indices = torch.tensor([0, 2])
    assert ThresholdedBCELoss()(LOGITS, indices).item() == pytest.approx(
        HAND_T05, abs=1e-5)
    assert binarize_targets(SOFT, 3, 0.0).tolist() == [[1, 1, 0], [0, 0, 1]]
    assert binarize_targets(indices[:, None], 3).tolist() == [[1, 0, 0],
                                                              [0, 0, 1]]


def test_reductions_weight_and_loss_weight():
    crit = ThresholdedBCELoss(loss_weight=2.0, reduction='none')
    per_entry = crit(LOGITS, SOFT)
    assert per_entry.shape == (2, 3)
    assert per_entry[1, 2].item() == pytest.approx(2 * 2.126928, abs=1e-5)
    total = ThresholdedBCELoss(reduction='sum')(LOGITS, SOFT)
    assert total.item() == pytest.approx(6.547604, abs=1e-5)
    # per-sample weights (0, 1): only row 1 counts, still divided by N * C
    weighted = ThresholdedBCELoss()(
        LOGITS, SOFT, weight=torch.tensor([0., 1.]))
    row1 = 0.693147 + 1.313262 + 2.126928
    assert weighted.item() == pytest.approx(row1 / 6, abs=1e-5)


def test_as_head_loss_in_linear_cls_head():
    # the head passes avg_factor=N; fc = identity so the logits are LOGITS
    head = MODELS.build(
        dict(
            type='LinearClsHead',
            num_classes=3,
            in_channels=3,
            loss=dict(type='ThresholdedBCELoss')))
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(3))
        head.fc.bias.zero_()
    samples = [DataSample().set_gt_score(s) for s in SOFT]
    losses = head.loss((LOGITS.clone(), ), samples)
    assert losses['loss'].item() == pytest.approx(HAND_T0, abs=1e-5)
    # mmpretrain's own sigmoid CE in the same head: no threshold and the sum
    # over classes averaged over samples, 6.447604 / 2 (why this loss exists)
    head.loss_module = MODELS.build(
        dict(type='CrossEntropyLoss', use_sigmoid=True))
    plain = head.loss((LOGITS.clone(), ), samples)['loss']
    assert plain.item() == pytest.approx(6.447604 / 2, abs=1e-5)


def test_mixup_targets_become_both_classes():
    set_random_seed(0)  # lam from numpy, the partner from torch
    num = 6
    scores = torch.eye(num)  # sample i has label i
    _, mixed = Mixup(alpha=1.0)(torch.zeros(num, 3, 4, 4), scores)
    target = binarize_targets(mixed, num)
    for i in range(num):
        assert target[i, i] == 1  # own class always positive
        ones = target[i].nonzero().flatten().tolist()
        assert 1 <= len(ones) <= 2
        # each positive had a non-zero mixing weight, the rest exactly zero
        assert (mixed[i][target[i] == 0] == 0).all()
    assert (target.sum(1) == 2).any()


def test_half_precision_logits_give_fp32_loss():
    loss = ThresholdedBCELoss()(LOGITS.half(), SOFT.half())
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(HAND_T0, abs=1e-3)


def test_bad_input():
    crit = ThresholdedBCELoss()
    with pytest.raises(ValueError, match='cls_score'):
        crit(LOGITS[0], SOFT[0])
    with pytest.raises(ValueError, match='target'):
        crit(LOGITS, torch.ones(2, 5))
    with pytest.raises(ValueError, match='rows'):
        crit(LOGITS, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='reduction'):
        ThresholdedBCELoss(reduction='max')
    built = MODELS.build(dict(type='ThresholdedBCELoss'))
    assert 'threshold=0.0' in repr(built)
