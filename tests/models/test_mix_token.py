"""MixToken: CutMix on the token sequence after the patch embedding."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample
from tiny_vit import tiny_vit_backbone

import mmvitreg  # noqa: F401
from mmvitreg.models.batch_augments import MixToken

NUM_CLASSES = 5
GRID = (8, 8)
MODEL = dict(
    type='TokenLabelingClassifier',
    backbone=tiny_vit_backbone(),
    neck=None,
    head=dict(type='VisionTransformerClsHead', num_classes=NUM_CLASSES,
              in_channels=32),
    dense_head=dict(type='DenseTokenHead', in_channels=32,
                    num_classes=NUM_CLASSES),
    mix_token=dict(type='MixToken', alpha=1.0, prob=1.0),
    data_preprocessor=dict(num_classes=NUM_CLASSES))


def _samples(batch_size=4):
    gen = torch.Generator().manual_seed(0)
    samples = []
    for b in range(batch_size):
        token_label = torch.randn(NUM_CLASSES, *GRID,
                                  generator=gen).softmax(0)
        sample = DataSample().set_gt_label(b % NUM_CLASSES)
        sample.set_field(token_label, 'token_label', field_type='data')
        samples.append(sample)
    return samples


def _box(mask):
    """(y1, y2, x1, x2) bounding the False cells of ``mask``."""
    ys, xs = torch.nonzero(~mask, as_tuple=True)
    return ys.min().item(), ys.max().item() + 1, xs.min().item(), \
        xs.max().item() + 1


def test_mask_is_a_box_and_lam_is_the_token_fraction():
    mix_token = MixToken(alpha=1.0)
    np.random.seed(0)
    seen_partial = 0
    for _ in range(50):
        mix = mix_token.sample(GRID)
        assert mix.mask.shape == GRID and mix.mask.dtype == torch.bool
        assert mix.lam == pytest.approx(mix.mask.float().mean().item())
        y1, y2, x1, x2 = mix.box
        expected = torch.ones(GRID, dtype=torch.bool)
        expected[y1:y2, x1:x2] = False
        assert torch.equal(mix.mask, expected)
        if (~mix.mask).any():
            # the False cells fill their bounding box exactly: a rectangle
            assert _box(mix.mask) == mix.box
            seen_partial += int(mix.lam > 0)
    assert seen_partial > 10


def test_box_side_follows_lam():
    np.random.seed(1)
    # lam = 0.75 -> side sqrt(0.25) * 8 = 4 cells before clipping
    sides = set()
    for _ in range(20):
        y1, y2, x1, x2 = MixToken().sample(GRID, lam=0.75).box
        assert y2 - y1 <= 4 and x2 - x1 <= 4
        sides.add((y2 - y1, x2 - x1))
    assert (4, 4) in sides
    # lam = 1 mixes nothing
    assert MixToken().sample(GRID, lam=1.0).mask.all()


def test_mix_tokens_equals_masked_sum():
    torch.manual_seed(0)
    tokens = torch.randn(3, 64, 6)
    mix = MixToken().sample(GRID, lam=0.5)
    m = mix.mask.flatten().float().view(1, -1, 1)
    expected = tokens * m + tokens.flip(0) * (1 - m)
    assert torch.equal(MixToken.mix_tokens(tokens, mix, GRID), expected)
    # a patch-embedding grid 2x finer than the mask grid (Swin's first
    # stage vs. its last): every token takes the mask of its parent cell
    fine = torch.randn(3, 16 * 16, 6)
    mixed = MixToken.mix_tokens(fine, mix, (16, 16))
    up = mix.mask.repeat_interleave(2, 0).repeat_interleave(2, 1)
    assert torch.equal(mixed[:, up.flatten()], fine[:, up.flatten()])
    assert torch.equal(mixed[:, ~up.flatten()],
                       fine.flip(0)[:, ~up.flatten()])
    with pytest.raises(ValueError, match='does not divide'):
        MixToken.mix_tokens(torch.randn(3, 100, 6), mix, (10, 10))


def test_scores_and_sources():
    mix = MixToken().sample(GRID, lam=0.6)
    scores = F.one_hot(torch.tensor([0, 1, 2]), 3).float()
    mixed = MixToken.mix_scores(scores, mix)
    assert torch.allclose(mixed[0], torch.tensor(
        [mix.lam, 0., 1 - mix.lam]))
    source = MixToken.patch_source(mix, 3)
    assert torch.equal(source[0][mix.mask], torch.zeros(
        int(mix.mask.sum()), dtype=torch.long))
    assert (source[0][~mix.mask] == 2).all()
    assert (source[1] == 1).all()  # odd batch: the middle mixes with itself


def _run_loss(model, samples):
    """Run ``model.loss`` recording the patch-embedding output the blocks
    see (first block input minus the position embedding) and the dense
    targets handed to the loss."""
    record = {}
    backbone = model.backbone

    def first_block(module, args):
        record['embed'] = args[0][:, 1:] - backbone.pos_embed[:, 1:]

    def dense_loss(module, args):
        record['targets'] = args[1]

    handles = [
        backbone.layers[0].register_forward_pre_hook(first_block),
        model.dense_head.loss_module.register_forward_pre_hook(dense_loss)
    ]
    torch.manual_seed(1)
    inputs = torch.randn(len(samples), 3, 32, 32)
    try:
        losses = model.loss(inputs, samples)
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        clean, _ = backbone.patch_embed(inputs)
    return losses, record, clean


def test_model_mixes_tokens_labels_and_class_label():
    np.random.seed(3)
    model = MODELS.build(copy.deepcopy(MODEL))
    model.train()
    samples = _samples()
    token_labels = torch.stack(
        [s.token_label for s in samples]).flatten(2).transpose(1, 2)
    losses, record, clean = _run_loss(model, samples)
    assert set(losses) == {'loss', 'loss_token'}

    mask = torch.stack([s.patch_source == b
                        for b, s in enumerate(samples)])  # (B, Ht, Wt)
    assert (mask == mask[0]).all()  # one box for the batch
    mask = mask[0]
    lam_bar = mask.float().mean().item()
    assert 0 < lam_bar < 1
    y1, y2, x1, x2 = _box(mask)
    assert (~mask[y1:y2, x1:x2]).all()  # a box on the token grid

    m = mask.flatten().float().view(1, -1, 1)
    # tokens: T = T1 * M + T2 * (1 - M) at the patch-embedding output
    assert torch.allclose(record['embed'],
                          clean * m + clean.flip(0) * (1 - m), atol=1e-6)
    # token labels mixed with the same M, exactly
    assert torch.equal(record['targets'],
                       token_labels * m + token_labels.flip(0) * (1 - m))
    # class label: lam_bar y1 + (1 - lam_bar) y2 with lam_bar = token share
    for b, sample in enumerate(samples):
        expected = torch.zeros(NUM_CLASSES)
        expected[b % NUM_CLASSES] += lam_bar
        expected[(3 - b) % NUM_CLASSES] += 1 - lam_bar
        assert torch.allclose(sample.gt_score, expected)
        assert torch.equal(sample.unmixed_score,
                           F.one_hot(torch.tensor(b % NUM_CLASSES),
                                     NUM_CLASSES).float())
    assert not any(mod._forward_hooks for mod in model.modules())


@pytest.mark.parametrize('mode', ['eval', 'prob0'])
def test_eval_mode_and_prob_zero_leave_the_input_alone(mode):
    cfg = copy.deepcopy(MODEL)
    if mode == 'prob0':
        cfg['mix_token']['prob'] = 0.0
    model = MODELS.build(cfg)
    model.train(mode != 'eval')
    samples = _samples()
    token_labels = torch.stack(
        [s.token_label for s in samples]).flatten(2).transpose(1, 2)
    np.random.seed(0)
    _, record, clean = _run_loss(model, samples)
    assert torch.allclose(record['embed'], clean, atol=1e-6)
    assert torch.equal(record['targets'], token_labels)
    assert all('patch_source' not in s and 'gt_score' not in s
               for s in samples)


def test_not_an_image_level_augment():
    with pytest.raises(TypeError, match='mix_token'):
        BATCH_AUGMENTS.build(dict(type='MixToken'))(
            torch.zeros(2, 3, 8, 8), torch.zeros(2, 5))
    cfg = copy.deepcopy(MODEL)
    cfg['train_cfg'] = dict(augments=dict(type='CutMix', alpha=1.0))
    with pytest.raises(ValueError, match='train_cfg.augments'):
        MODELS.build(cfg)
    for bad in (dict(alpha=0.), dict(prob=1.5)):
        with pytest.raises(ValueError, match='MixToken'):
            MixToken(**bad)
