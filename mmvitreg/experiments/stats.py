"""Summaries over seeds for the ablation: mean +- standard deviation, and a
paired 95% interval for a row's difference to its control.

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
