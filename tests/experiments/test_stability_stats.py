"""The stability statistics on hand-computed numbers: the seed-sd ratio
with its F interval, the epoch the training loss leaves ln(10) (parsed
from a log written here), and their row in the ablation's report.

F(2, 2) has the distribution function x / (1 + x), so its 2.5% and 97.5%
points are 1/39 and 39: with 3 seeds on each side the variance ratio's
interval is [r / 39, 39 r], the sd ratio's [sqrt(r / 39), sqrt(39 r)]."""
import math

import pytest

from mmvitreg.experiments.ablation_report import markdown, summary
from mmvitreg.experiments.ablation_rows import Schedule
from mmvitreg.experiments.stats import epoch_spread, sd_ratio
from mmvitreg.experiments.train_log import (
    loss_per_epoch,
    plateau_exit_epoch,
    read_training_log,
)

SQRT39 = math.sqrt(39)  # 6.2450


def test_sd_ratio_with_three_seeds_each():
    # sd(0, 2, 4) = 2, sd(0, 4, 8) = 4: ratio 0.5, variance ratio 0.25
    r = sd_ratio([0.0, 2.0, 4.0], [0.0, 4.0, 8.0])
    assert r.ratio == pytest.approx(0.5)
    assert r.low == pytest.approx(0.5 / SQRT39)  # 0.0801
    assert r.high == pytest.approx(0.5 * SQRT39)  # 3.1225
    assert (r.n_row, r.n_control) == (3, 3)


def test_sd_ratio_needs_two_seeds_and_a_spread():
    assert sd_ratio([1.0], [1.0, 2.0]).ratio is None
    assert sd_ratio([1.0, 2.0], [3.0, 3.0]).ratio is None


def test_epoch_spread_counts_the_seeds_that_never_left():
    e = epoch_spread([3, 5, None, 7])
    assert (e.mean, e.low, e.high, e.n, e.never) == (5.0, 3, 7, 4, 1)
    assert epoch_spread([None, None]).mean is None


def log_line(epoch, it, loss):
    return (f'12/04 15:55:08 - mmengine - INFO - Epoch(train) [{epoch}]'
            f'[{it}/45]  base_lr: 4.1e-04 lr: 4.1e-04  eta: 0:00:23  '
            f'time: 0.18  data_time: 0.04  loss: {loss}  grad_norm: 1.18\n')


def test_loss_per_epoch_and_plateau_exit_from_a_log():
    # epoch means: 2.30, 2.25, (2.20 + 2.18) / 2 = 2.19, 1.50; the
    # threshold is ln(10) - 0.1 = 2.2026: epoch 3 is the first below
    text = (log_line(1, 10, 2.31) + log_line(1, 20, 2.29) +
            log_line(2, 10, 2.25) + 'Saving checkpoint at 2 epochs\n' +
            log_line(3, 10, 2.20) + log_line(3, 20, 2.18) +
            log_line(4, 10, '1.5000  loss_cosine: 0.3000'))
    losses = loss_per_epoch(text)
    assert losses == pytest.approx([2.30, 2.25, 2.19, 1.50])
    assert plateau_exit_epoch(losses) == 3
    assert plateau_exit_epoch([2.30, 2.29]) is None


def test_a_log_missing_an_epoch_is_refused():
    with pytest.raises(ValueError, match=r'epochs \[2\]'):
        loss_per_epoch(log_line(1, 10, 2.3) + log_line(3, 10, 2.3))


def test_report_row_by_hand():
    def run(row, seed, top1, exit_epoch):
        return dict(row=row, seed=seed, top1=top1, patch_sim=[0.5],
                    plateau_exit_epoch=exit_epoch)
    records = [run('baseline', s, v, e)
               for s, v, e in ((0, 0.0, None), (1, 4.0, 9), (2, 8.0, 3))]
    records += [run('contrastive', s, v, e)
                for s, v, e in ((0, 0.0, 2), (1, 2.0, 2), (2, 4.0, 5))]
    table = summary(records)
    st = table['contrastive']['stability']
    assert st['top1_sd_ratio']['ratio'] == pytest.approx(0.5)
    assert st['plateau_exit_epoch'] == dict(mean=3.0, low=2, high=5, n=3,
                                            never=0)
    # exit epochs paired over seeds 1 and 2 (the baseline never left on
    # seed 0): 2 - 9 = -7 and 5 - 3 = +2, mean -2.5, sd 9 / sqrt(2); the
    # t(1) 97.5% point is 12.7062, so the half width is 12.7062 * 4.5
    d = st['plateau_exit_diff']
    assert (d['mean'], d['n'], d['excludes_zero']) == (-2.5, 2, False)
    assert d['low'] == pytest.approx(-2.5 - 12.7062 * 4.5, abs=1e-3)
    assert d['high'] == pytest.approx(-2.5 + 12.7062 * 4.5, abs=1e-3)
    text = markdown(table, [0, 1, 2], Schedule())
    assert '| contrastive | baseline | 0.50 [0.08, 3.12] (n=3) | ' \
        '3.0 (2-5), n=3 | -2.5 [-59.7, +54.7] (n=2) |' in text
    assert '| baseline | - |  | 6.0 (3-9), n=3, 1 never left |  |' in text


def test_training_log_is_read_from_mmengines_own_logs(tmp_path):
    # the train launch's log (epochs 1-2) and the test launch's (no
    # training lines), as tools/train.py and tools/test.py leave them; the
    # console capture beside them is not read
    (tmp_path / '20261204_101010').mkdir()
    (tmp_path / '20261204_101010' / '20261204_101010.log').write_text(
        log_line(1, 10, 2.30) + log_line(2, 10, 2.10))
    (tmp_path / '20261204_102020').mkdir()
    (tmp_path / '20261204_102020' / '20261204_102020.log').write_text(
        'Epoch(test) [10/12] accuracy/top1: 50.0\n')
    (tmp_path / 'train.log').write_text(log_line(1, 10, 9.0))
    losses = loss_per_epoch(read_training_log(str(tmp_path)))
    assert losses == pytest.approx([2.30, 2.10])
    with pytest.raises(FileNotFoundError, match='no mmengine log'):
        read_training_log(str(tmp_path / 'missing'))
