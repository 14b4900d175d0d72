"""The ablation's report: ``results.json`` (every run's raw numbers, with
config, options, seed and git commit), ``results.md`` (mean +- sd over
seeds, difference to the control with a paired 95% interval) and two plots
(per-layer patch similarity, mean +- sd band per row; top-1 and ADE mIoU per
row with sd error bars)."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from .ablation_rows import ROWS, Schedule
from .stats import epoch_spread, paired_difference, sd_ratio, summarise
from .tool_runs import git_commit

# (record key, column title) of the metrics the table summarises
METRICS = (('top1', 'top-1'), ('top5', 'top-5'),
           ('sim_last', 'last-layer patch sim'), ('ade_miou', 'ADE mIoU'))


def metric(record: dict, key: str) -> Optional[float]:
    if key == 'sim_last':
        return record['patch_sim'][-1]
    return record.get(key)


def by_seed(records: Sequence[dict], row: str, key: str) -> Dict[int, float]:
    values = {r['seed']: metric(r, key) for r in records if r['row'] == row}
    return {s: v for s, v in values.items() if v is not None}


def summary(records: Sequence[dict]) -> Dict[str, dict]:
    """Per row and metric: mean, sd, n, and the paired difference to the
    control (mean, 95% interval, whether it excludes 0)."""
    present = {r['row'] for r in records}
    rows = [n for n in ROWS if n in present]  # the table's order
    out = {}
    for name in rows:
        control = ROWS[name].control
        entry = dict(control=control, note=ROWS[name].note, metrics={})
        for key, _ in METRICS:
            values = by_seed(records, name, key)
            if not values:
                continue
            s = summarise(list(values.values()))
            item = dict(mean=s.mean, sd=s.std, n=s.n)
            if control is not None:
                d = paired_difference(values, by_seed(records, control, key))
                if d is not None:
                    item['diff'] = dict(mean=d.mean, low=d.low, high=d.high,
                                        n=d.n, excludes_zero=d.excludes_zero)
            entry['metrics'][key] = item
        entry['stability'] = stability(records, name, control)
        out[name] = entry
    return out


def stability(records: Sequence[dict], row: str,
              control: Optional[str]) -> dict:
    """The row's top-1 seed sd over its control's (seeds both ran; F
    interval), the epoch its training loss leaves ln(10) (runs that
    recorded it) and that epoch's difference to the control's, paired by
    seed over the seeds where both left (t interval; a seed that never
    left has no epoch to pair, so it drops out: for a row that leaves
    earlier, dropping the control's never-left seeds shrinks the
    difference)."""
    out = {}
    if control is not None:
        mine, theirs = by_seed(records, row, 'top1'), by_seed(
            records, control, 'top1')
        seeds = sorted(set(mine) & set(theirs))
        r = sd_ratio([mine[s] for s in seeds], [theirs[s] for s in seeds])
        out['top1_sd_ratio'] = dict(ratio=r.ratio, low=r.low, high=r.high,
                                    n=len(seeds), method='F distribution')
    epochs = [r['plateau_exit_epoch'] for r in records
              if r['row'] == row and 'plateau_exit_epoch' in r]
    if epochs:
        e = epoch_spread(epochs)
        out['plateau_exit_epoch'] = dict(mean=e.mean, low=e.low,
                                         high=e.high, n=e.n, never=e.never)
    if control is not None and epochs:
        d = paired_difference(by_seed(records, row, 'plateau_exit_epoch'),
                              by_seed(records, control,
                                      'plateau_exit_epoch'))
        if d is not None:
            out['plateau_exit_diff'] = dict(
                mean=d.mean, low=d.low, high=d.high, n=d.n,
                excludes_zero=d.excludes_zero)
    return out


def stability_lines(table: Dict[str, dict]) -> List[str]:
    """Markdown table: top-1 sd ratio to the control [95% F interval]
    and the epoch the training loss leaves ln(10)."""
    lines = ['| row | control | top-1 sd / control sd [95% F] | '
             'training loss leaves ln(10) at epoch: mean (range) | '
             'Δ that epoch [95% t] |', '|---|---|---|---|---|']
    for name, entry in table.items():
        st = entry.get('stability', {})
        r = st.get('top1_sd_ratio')
        ratio = '' if r is None else (
            f'n={r["n"]}: -' if r['ratio'] is None else
            f'{r["ratio"]:.2f} [{r["low"]:.2f}, {r["high"]:.2f}] (n={r["n"]})'
            + (' *' if r['high'] < 1 or r['low'] > 1 else ''))
        e = st.get('plateau_exit_epoch')
        if e is None:
            epoch = '-'
        elif e['mean'] is None:
            epoch = f'never ({e["never"]} of {e["n"]} seeds)'
        else:
            epoch = (f'{e["mean"]:.1f} ({e["low"]}-{e["high"]}), '
                     f'n={e["n"]}')
            if e['never']:
                epoch += f', {e["never"]} never left'
        lines.append(f'| {name} | {entry["control"] or "-"} | {ratio} | '
                     f'{epoch} | {exit_diff_cell(st)} |')
    return lines


def exit_diff_cell(stability_entry: dict) -> str:
    d = stability_entry.get('plateau_exit_diff')
    if d is None:
        return ''
    if d['low'] is None:
        return f'{d["mean"]:+.1f} (n={d["n"]})'
    return (f'{d["mean"]:+.1f} [{d["low"]:+.1f}, {d["high"]:+.1f}] '
            f'(n={d["n"]})' + (' *' if d['excludes_zero'] else ''))


def cell(item: Optional[dict], digits: int) -> str:
    if item is None:
        return '-'
    sd = '' if item['sd'] is None else f' ± {item["sd"]:.{digits}f}'
    return f'{item["mean"]:.{digits}f}{sd}'


def diff_cell(item: Optional[dict], digits: int) -> str:
    if item is None or 'diff' not in item:
        return ''
    d = item['diff']
    text = f'{d["mean"]:+.{digits}f}'
    if d['low'] is not None:
        text += f' [{d["low"]:+.{digits}f}, {d["high"]:+.{digits}f}]'
    return text + (' *' if d['excludes_zero'] else '')


def markdown(table: Dict[str, dict], seeds: Sequence[int],
             schedule: Schedule) -> str:
    """Table: per metric ``mean ± sd`` and, below, ``Δ vs control [95%]``."""
    head = ['row', 'control', 'seeds']
    for _, title in METRICS:
        head += [title, f'Δ {title}']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, entry in table.items():
        m = entry['metrics']
        n = max((v['n'] for v in m.values()), default=0)
        cells = [name, entry['control'] or '-', str(n)]
        for key, _ in METRICS:
            digits = 3 if key == 'sim_last' else 2
            cells += [cell(m.get(key), digits), diff_cell(m.get(key), digits)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    notes = [f'- **{name}**: {entry["note"]}' for name, entry in table.items()]
    return '\n'.join([
        f'Seeds {",".join(map(str, seeds))}; pretraining {schedule.epochs} '
        f'epochs, transfer {schedule.seg_iters} iterations (every row).',
        'Cells: mean ± sd over seeds. Δ: difference to the control, paired '
        'by seed, with its 95% t interval; * marks an interval that '
        'excludes 0.', '', *lines, '',
        'Stability: the ratio of the top-1 standard deviations over the '
        "seeds both ran (row / control) with its 95% interval from the F "
        'distribution (assumes independent normal samples: a guide here, '
        'where seeds pair the runs and plateau seeds make top-1 bimodal); '
        '* marks an interval that excludes 1. The epoch at which the '
        "training loss leaves ln(10): the first epoch whose mean logged "
        'loss is below ln(10) - 0.1, read from each run\'s own mmengine log '
        '(mean and range over the seeds that left; - where the runs '
        'predate the record); its difference to the control, paired by '
        'seed over the seeds where both left, with its 95% t interval (* '
        'excludes 0).', '', *stability_lines(table), '',
        *notes, ''])


def plot(records: Sequence[dict], table: Dict[str, dict],
         out_dir: str) -> List[str]:
    """``similarity_curves.png`` and ``top1_miou.png``; returns the paths."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    paths = [osp.join(out_dir, 'similarity_curves.png'),
             osp.join(out_dir, 'top1_miou.png')]
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.get_cmap('tab20').colors  # one colour per row (<= 20)
    for i, name in enumerate(table):
        curves = np.array([r['patch_sim'] for r in records
                           if r['row'] == name])
        x = np.arange(1, curves.shape[1] + 1)
        mean, sd = curves.mean(0), curves.std(0, ddof=min(1, len(curves) - 1))
        colour = colours[(2 * i) % 20 + (2 * i) // 20]
        ax.plot(x, mean, marker='o', color=colour,
                linestyle='-' if i < 10 else '--',
                label=f'{name} (n={len(curves)})')
        ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.1)
    ax.set(xlabel='block', ylabel='mean patch cosine similarity',
           title='Per-layer patch similarity (mean ± sd over seeds)')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths[0], dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, key, title in ((axes[0], 'top1', 'top-1 (%)'),
                           (axes[1], 'ade_miou', 'ADE-layout mIoU')):
        names = [n for n in table if key in table[n]['metrics']]
        items = [table[n]['metrics'][key] for n in names]
        ax.bar(range(len(names)), [i['mean'] for i in items],
               yerr=[i['sd'] or 0 for i in items], capsize=4)
        ax.set_xticks(range(len(names)), names, rotation=60, ha='right',
                      fontsize=8)
        ax.set_title(f'{title}, mean ± sd over seeds')
        if items:
            low = min(i['mean'] - (i['sd'] or 0) for i in items)
            ax.set_ylim(max(0.0, low - 5), None)
    fig.tight_layout()
    fig.savefig(paths[1], dpi=120)
    plt.close(fig)
    return paths


def machines(records: Sequence[dict]) -> List[dict]:
    """The distinct machines the runs name (runs from before the machine
    was recorded name none), each with its number of runs."""
    found: Dict[str, dict] = {}
    for record in records:
        if 'machine' in record:
            key = json.dumps(record['machine'], sort_keys=True)
            found.setdefault(key, dict(record['machine'], runs=0))['runs'] += 1
    return list(found.values())


def runs_commit(records: Sequence[dict]) -> str:
    """The commit every run recorded, when they agree (a report rewritten
    by ``--report-only`` from another checkout names the runs' code, not
    its own); else this checkout's HEAD."""
    commits = {r['commit'] for r in records if 'commit' in r}
    if len(commits) == 1 and all('commit' in r for r in records):
        return commits.pop()
    return git_commit()


def commit_counts(records: Sequence[dict]) -> Dict[str, int]:
    """Runs per recorded commit (a report continued with ``--import-runs``
    holds runs of several commits)."""
    counts: Dict[str, int] = {}
    for record in records:
        key = record.get('commit', 'unrecorded')
        counts[key] = counts.get(key, 0) + 1
    return counts


def write_report(records: Sequence[dict], seeds: Sequence[int],
                 schedule: Schedule, out_dir: str,
                 wall_seconds: Optional[float] = None) -> str:
    """Write results.json / results.md / the plots; returns the table."""
    os.makedirs(out_dir, exist_ok=True)
    table = summary(records)
    text = markdown(table, seeds, schedule)
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(text)
    rows = {n: dict(config=ROWS[n].config, options=list(ROWS[n].options),
                    control=ROWS[n].control, transfer=ROWS[n].transfer,
                    transfer_options=list(ROWS[n].transfer_options),
                    note=ROWS[n].note) for n in table}
    with open(osp.join(out_dir, 'results.json'), 'w') as f:
        json.dump(dict(commit=runs_commit(records),
                       commits=commit_counts(records),
                       machines=machines(records), seeds=list(seeds),
                       schedule=vars(schedule), wall_seconds=wall_seconds,
                       rows=rows, summary=table, runs=list(records)),
                  f, indent=1)
    plot(records, table, out_dir)
    return text
