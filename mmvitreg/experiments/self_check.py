"""The main job checks its own numbers against the committed ablation.

One seed of a tiny ViT on 1,438 images is one draw from a wide
distribution (the baseline's top-1 spans tens of points over seeds), so a
newcomer's number that differs from the README's says nothing by itself.
Beside each number the main job prints, for the same row and metric, the
committed ablation's per-seed min-max and mean ± 2 sd (sample sd, n - 1),
marks the number within or outside each, and ends with how many are
outside. An outside number is a prompt to look (a broken install, other
data, another library version), not a failure: with 8 seeds, about 2 in 9
draws of the same distribution fall outside its min-max.
"""
import json
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

#: (record key, printed name) of the numbers the main job prints
CHECKED = (('top1', 'top-1'), ('top5', 'top-5'),
           ('sim_last', 'last-layer patch sim'), ('ade_miou', 'ADE mIoU'))


@dataclass(frozen=True)
class Range:
    """One row's and metric's seeds in the committed ablation."""
    n: int
    low: float
    high: float
    mean: float
    sd: Optional[float]  # None for one seed
    source: str

    def within_min_max(self, value: float) -> bool:
        return self.low <= value <= self.high

    def within_two_sd(self, value: float) -> Optional[bool]:
        if self.sd is None:
            return None
        return abs(value - self.mean) <= 2 * self.sd


def record_value(record: dict, key: str) -> Optional[float]:
    if key == 'sim_last':
        sim = record.get('patch_sim')
        return sim[-1] if sim else None
    return record.get(key)


def load_runs(path: str) -> List[dict]:
    """The raw runs of a committed ``results.json``; a clear error naming
    the file when it is missing or not an ablation report."""
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'self-check: cannot read {path}: {err}') from err
    if not isinstance(report, dict) or not isinstance(report.get('runs'),
                                                      list):
        raise ValueError(f"self-check: {path} has no 'runs' list (not a "
                         'benchmarks/ablation.py results.json)')
    return report['runs']


def ranges(paths: Sequence[str]) -> Dict[Tuple[str, str], Range]:
    """Per (row, metric): the range from the file with the most seeds for
    that row (the first file wins a tie)."""
    out: Dict[Tuple[str, str], Range] = {}
    for path in paths:
        values: Dict[Tuple[str, str], List[float]] = {}
        for run in load_runs(path):
            for key, _ in CHECKED:
                v = record_value(run, key)
                if v is not None:
                    values.setdefault((run['row'], key), []).append(float(v))
        for cell, vs in values.items():
            if cell in out and out[cell].n >= len(vs):
                continue
            mean = math.fsum(vs) / len(vs)
            sd = (math.sqrt(math.fsum((v - mean)**2 for v in vs) /
                            (len(vs) - 1)) if len(vs) > 1 else None)
            out[cell] = Range(len(vs), min(vs), max(vs), mean, sd, path)
    return out


def mark(ok: Optional[bool]) -> str:
    return {True: 'within', False: 'OUTSIDE', None: 'n/a'}[ok]


def check(records: Sequence[dict], paths: Sequence[str],
          digits: Dict[str, int] = None) -> Tuple[str, int, int]:
    """The self-check table of the main job's ``records`` against the
    committed reports ``paths``; returns ``(text, outside, checked)``
    (``outside``: numbers outside at least one of the two ranges)."""
    digits = digits or {'sim_last': 3}
    table = ranges(paths)
    lines = ['| row | metric | this run | seeds | per-seed min-max | '
             'mean ± 2 sd |', '|' + '---|' * 6]
    outside = checked = 0
    sources = set()
    for record in records:
        for key, name in CHECKED:
            value = record_value(record, key)
            ref = table.get((record['row'], key))
            if value is None or ref is None:
                continue
            d = digits.get(key, 2)
            in_range = ref.within_min_max(value)
            in_sd = ref.within_two_sd(value)
            checked += 1
            outside += (not in_range) or in_sd is False
            sources.add(ref.source)
            sd = ('-' if ref.sd is None else
                  f'{ref.mean:.{d}f} ± {2 * ref.sd:.{d}f} {mark(in_sd)}')
            lines.append(
                f"| {record['row']} | {name} | {value:.{d}f} | {ref.n} | "
                f'{ref.low:.{d}f} - {ref.high:.{d}f} {mark(in_range)} | '
                f'{sd} |')
    head = ('Self-check against the committed ablation '
            f'({", ".join(sorted(sources)) or "no matching rows"}):')
    tail = (f'self-check: {outside} of {checked} numbers outside the '
            "committed ablation's range (min-max or mean ± 2 sd); not a "
            'failure: one seed is one draw')
    return '\n'.join([head, *lines, '', tail]), outside, checked
