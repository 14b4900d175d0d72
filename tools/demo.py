"""The main job: pretrain tiny ViTs on the embedded digits, transfer them with
UperNet to digit scenes, evaluate, and print one results table.

    python tools/demo.py [--rows baseline,patch_mixing,diverse,...]
                         [--work-dir work_dirs/demo] [--quick] [--jobs 2]
                         [--cityscapes]

Data: ``data/digits`` (written by ``tools/prepare_digits.py`` on first use),
the ``data_root`` of the demo configs.

The table is seed 0 of the controlled ablation (``benchmarks/ablation.py``):
the same rows, configs, options and schedule (``Schedule``: pretraining 15
epochs, transfer 1000 iterations), so each row sits beside its control
(``patch_mixing`` is the ``diverse`` row's: the same batch augment without
the losses); only ``deit3``'s transfer is left to the ablation.
Conclusions need the ablation's seeds and intervals, not this one seed.
Every step runs the command line a user would (``tools/train.py``,
``tools/test.py``, ``tools/analysis/patch_similarity.py``,
``tools/generate_token_labels.py``); rows run ``--jobs`` at a time with one
thread and AVX2 kernels each (``portable_numerics``). Each number is
printed beside the committed ablation's range for its row and metric
(``self_check``): within or outside, never a failure. Printed and written
to ``<work-dir>/results.md`` /
``results.json`` with the per-layer similarity plot
``similarity_curves.png``. ``--quick`` shortens every schedule (tests and
smoke runs; numbers then mean nothing).
"""
import argparse
import dataclasses
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmvitreg.experiments import tool_runs  # noqa: E402
from mmvitreg.experiments.ablation import run_ablation, run_dir, transfer  # noqa: E402
from mmvitreg.experiments.ablation_report import plot, summary  # noqa: E402
from mmvitreg.experiments.ablation_rows import Schedule, check_rows  # noqa: E402
from mmvitreg.experiments.portable_numerics import machine  # noqa: E402
from mmvitreg.experiments.self_check import check  # noqa: E402

ROWS = ('baseline', 'patch_mixing', 'diverse', 'token_labeling', 'deit3')
# rows whose transfer the main job runs (the ablation transfers deit3 too;
# here it would take the job past 10 minutes on 2 cores)
TRANSFER = ('baseline', 'patch_mixing', 'diverse', 'token_labeling')
QUICK = Schedule(epochs=2, seg_iters=31)
#: committed ablation reports the self-check compares against (per row, the
#: one with the most seeds; the depth report serves the *_24blocks rows)
REFERENCES = ('benchmarks/results/ablation_seeds/results.json',
              'benchmarks/results/ablation/results.json',
              'benchmarks/results/ablation_depth/results.json')
CITYSCAPES = 'configs/demo/upernet_vit_tiny_digits_cityscapes.py'


def fmt(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.2f}'


def cityscapes(record: dict, work_dir: str, schedule: Schedule) -> None:
    """The baseline's transfer to the Cityscapes-layout scenes (opt-in)."""
    wd = run_dir(work_dir, record['row'], record['seed'])
    seg = transfer(CITYSCAPES, osp.join(work_dir, record['checkpoint']),
                   osp.join(wd, 'cityscapes'), schedule, record['seed'],
                   tool_runs.single_thread_env(), quiet=False)
    record['cityscapes_miou'] = seg.get('mIoU')


def table(records: List[dict]) -> str:
    lines = ['| row | top-1 | top-5 | last-layer patch sim | ADE mIoU '
             '| Cityscapes mIoU |', '|' + '---|' * 6]
    for r in records:
        lines.append(f"| {r['row']} | {fmt(r['top1'])} | {fmt(r['top5'])} | "
                     f"{r['patch_sim'][-1]:.3f} | {fmt(r.get('ade_miou'))} | "
                     f"{fmt(r.get('cityscapes_miou'))} |")
    lines += [f"\n{r['row']}: annotator top-1 {fmt(r['annotator_top1'])}"
              for r in records if r.get('annotator_top1') is not None]
    return '\n'.join(lines)


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--rows', default=','.join(ROWS),
                        help='comma-separated rows of the ablation '
                        '(benchmarks/ablation.py --help lists them all)')
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='root of every run, table and plot')
    parser.add_argument('--quick', action='store_true',
                        help='shortest schedules (smoke test)')
    parser.add_argument('--jobs', type=int,
                        default=min(2, os.cpu_count() or 1),
                        help='rows run in parallel, one thread each')
    parser.add_argument('--cityscapes', action='store_true',
                        help='also transfer the baseline to the '
                        'Cityscapes-layout scenes')
    args = parser.parse_args(argv)
    try:
        rows = check_rows([n for n in args.rows.split(',') if n])
    except ValueError as err:
        parser.error(str(err))
    rows = [row if row.name in TRANSFER else
            dataclasses.replace(row, transfer=None) for row in rows]

    from mmvitreg.datasets.digits import prepare_digits
    from mmvitreg.datasets.digits_manifest import check_digits
    start = time.time()
    # the tree is generated and ours: an older format is rewritten
    data = prepare_digits(osp.join(tool_runs.ROOT, 'data', 'digits'),
                          force=True)['root']
    data_warnings = check_digits(data)  # other data: named, not fatal
    for line in data_warnings:
        print(line)
    schedule = QUICK if args.quick else Schedule()
    records = run_ablation(rows, [0], args.work_dir, schedule, args.jobs,
                           resume=False)
    records.sort(key=lambda r: [row.name for row in rows].index(r['row']))
    if args.cityscapes:
        for record in records:
            if record['row'] == 'baseline':
                cityscapes(record, args.work_dir, schedule)
    text = table(records)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(records, f, indent=2)
    plot(records, summary(records), args.work_dir)
    host = machine()
    print(f'\nmmvitreg demo ({time.time() - start:.0f}s, seed 0, '
          f'{"quick" if args.quick else "full"} schedules: pretraining '
          f'{schedule.epochs} epochs, transfer {schedule.seg_iters} '
          f'iterations; {host["cpu_model"]}, {host["threads_per_run"]} '
          f'thread per run, {host["isa"]} kernels)\n{text}\n')
    print('\n'.join(data_warnings + [self_check(records)]))
    return records


def self_check(records: List[dict]) -> str:
    """The self-check table against the committed ablation reports that
    exist (a missing one is named, not an error: the table is a guide)."""
    paths = [osp.join(tool_runs.ROOT, p) for p in REFERENCES]
    found = [p for p in paths if osp.isfile(p)]
    notes = [f'self-check: {osp.relpath(p, tool_runs.ROOT)} not found'
             for p in paths if p not in found]
    if not found:
        return '\n'.join(notes)
    text = check(records, found)[0]
    return '\n'.join(notes + [text.replace(tool_runs.ROOT + osp.sep, '')])


if __name__ == '__main__':
    main()
