"""Summaries over seeds for the ablation: mean +- standard deviation, a
paired 95% interval for a row's difference to its control, the ratio of a
row's seed spread to its control's (``sd_ratio``, F interval), and the
epoch at which training leaves the chance plateau (``epoch_spread``).

With seeds ``s = 1..n`` run for both a row and its control (same seed: same
data order and the same initialisation of the shared modules), the paired
differences ``d_s = x_s - c_s`` give

    mean d +- t_{0.975, n-1} * sd(d) / sqrt(n)

(Student's t; ``sd`` with ``n - 1`` in the denominator). The interval
"excludes 0" when both ends have the same sign: the only case the ablation
reports as an effect.
"""
import math
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

from scipy import stats as _scipy_stats


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation of ``n`` values (``std`` is None
    for a single value)."""
    mean: float
    std: Optional[float]
    n: int


@dataclass(frozen=True)
class PairedDifference:
    """Mean paired difference and its 95% t interval (None for n < 2)."""
    mean: float
    low: Optional[float]
    high: Optional[float]
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and (self.low > 0 or self.high < 0)


def summarise(values: Sequence[float]) -> Summary:
    """Mean +- sample standard deviation of ``values`` (at least one)."""
    n = len(values)
    if n == 0:
        raise ValueError('summarise: no values')
    mean = math.fsum(values) / n
    if n < 2:
        return Summary(mean, None, 1)
    var = math.fsum((v - mean)**2 for v in values) / (n - 1)
    return Summary(mean, math.sqrt(var), n)


def paired_difference(row: Dict[int, float], control: Dict[int, float],
                      confidence: float = 0.95) -> Optional[PairedDifference]:
    """``row - control`` paired by seed (the keys); None without a common
    seed."""
    seeds = sorted(set(row) & set(control))
    if not seeds:
        return None
    diffs = [row[s] - control[s] for s in seeds]
    summary = summarise(diffs)
    if summary.n < 2:
        return PairedDifference(summary.mean, None, None, 1)
    t = float(_scipy_stats.t.ppf(0.5 + confidence / 2, summary.n - 1))
    half = t * summary.std / math.sqrt(summary.n)
    return PairedDifference(summary.mean, summary.mean - half,
                            summary.mean + half, summary.n)


@dataclass(frozen=True)
class SdRatio:
    """``sd(row) / sd(control)`` over seeds with its interval (None when
    either side has fewer than 2 seeds or the control's sd is 0)."""
    ratio: Optional[float]
    low: Optional[float]
    high: Optional[float]
    n_row: int
    n_control: int


def sd_ratio(row: Sequence[float], control: Sequence[float],
             confidence: float = 0.95) -> SdRatio:
    """Ratio of the seed standard deviations, row over control, with the F
    distribution's interval: for independent normal samples,
    ``(s_r^2 / s_c^2) / (sigma_r^2 / sigma_c^2)`` follows F(n_r - 1,
    n_c - 1), so the variance ratio lies in ``[r / F_hi, r / F_lo]`` and
    the sd ratio in the square roots of that. Seeds pair the two samples
    and a seed stuck on the chance plateau makes top-1 bimodal, so the
    interval is a guide, not an exact 95%; a ratio whose interval lies
    below 1 is the stability claim ("the row's seeds spread less")."""
    n_r, n_c = len(row), len(control)
    if n_r < 2 or n_c < 2:
        return SdRatio(None, None, None, n_r, n_c)
    s_r, s_c = summarise(row).std, summarise(control).std
    if s_c == 0:
        return SdRatio(None, None, None, n_r, n_c)
    var_ratio = (s_r / s_c)**2
    tail = (1 - confidence) / 2
    f_hi = float(_scipy_stats.f.ppf(1 - tail, n_r - 1, n_c - 1))
    f_lo = float(_scipy_stats.f.ppf(tail, n_r - 1, n_c - 1))
    return SdRatio(s_r / s_c, math.sqrt(var_ratio / f_hi),
                   math.sqrt(var_ratio / f_lo), n_r, n_c)


@dataclass(frozen=True)
class EpochSpread:
    """Epoch at which the training loss leaves ln(10): mean and range over
    the seeds that left it, and how many never did."""
    mean: Optional[float]
    low: Optional[int]
    high: Optional[int]
    n: int
    never: int


def epoch_spread(epochs: Sequence[Optional[int]]) -> EpochSpread:
    """``epochs``: one per seed, None for a seed that never left."""
    left = [e for e in epochs if e is not None]
    never = len(epochs) - len(left)
    if not left:
        return EpochSpread(None, None, None, len(epochs), never)
    return EpochSpread(math.fsum(left) / len(left), min(left), max(left),
                       len(epochs), never)
