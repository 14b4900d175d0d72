"""Controlled, multi-seed ablation of every objective on the embedded digits.

    python benchmarks/ablation.py [--rows baseline,patch_mixing,...]
        [--seeds 0,1,2] [--jobs 2] [--epochs 15] [--seg-iters 500]
        [--work-dir work_dirs/ablation] [--out DIR] [--report-only]
        [--import-runs REPORT]

Rows, controls and schedule: ``mmvitreg/experiments/ablation_rows.py`` (one
table; adding a row is one line). Each (row, seed) runs ``tools/train.py``,
``tools/test.py`` and ``tools/analysis/patch_similarity.py`` (and UperNet
transfer for the rows that have it) as a user would; a finished run is
never repeated, so an interrupted ablation resumes where it stopped;
``--import-runs benchmarks/results/.../results.json`` continues a committed
report on a fresh machine (its runs count as finished).
Writes ``results.json``, ``results.md``, ``similarity_curves.png`` and
``top1_miou.png`` to ``--out`` (default: the work dir) after every run.
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmvitreg.experiments.ablation import (  # noqa: E402
    import_runs,
    load_result,
    plan,
    run_ablation,
)
from mmvitreg.experiments.ablation_report import write_report  # noqa: E402
from mmvitreg.experiments.ablation_rows import (  # noqa: E402
    DEFAULT_ROWS,
    ROWS,
    Schedule,
    check_rows,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', default=','.join(DEFAULT_ROWS),
                        help='comma-separated rows among '
                        f'{list(ROWS)} (default: all but the *_24blocks '
                        'depth study)')
    parser.add_argument('--seeds', default='0,1,2',
                        help='comma-separated seeds (default 0,1,2)')
    parser.add_argument('--jobs', type=int,
                        default=min(2, os.cpu_count() or 1),
                        help='runs in parallel, one BLAS thread each')
    parser.add_argument('--epochs', type=int, default=Schedule.epochs,
                        help='pretraining epochs of every row')
    parser.add_argument('--seg-iters', type=int, default=Schedule.seg_iters,
                        help='UperNet transfer iterations of every row')
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument('--out', default=None,
                        help='report folder (default: the work dir)')
    parser.add_argument('--import-runs', default=None, metavar='REPORT',
                        help="first copy a committed report's finished runs "
                        '(its results.json) into the work dir, so that a '
                        'fresh machine continues it (each run keeps its '
                        'commit and machine)')
    parser.add_argument('--report-only', action='store_true',
                        help='run nothing: rewrite the report from the '
                        'finished runs in the work dir (safe while another '
                        'process is running the ablation there)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    try:
        rows = check_rows([n for n in args.rows.split(',') if n])
        seeds = [int(s) for s in args.seeds.split(',') if s]
    except ValueError as err:
        raise SystemExit(f'ablation: {err}') from err
    missing = sorted({r.control for r in rows if r.control} -
                     {r.name for r in rows})
    if missing:
        print(f'note: controls {missing} are not selected; their rows get '
              'no difference column')
    from mmvitreg.datasets.digits import prepare_digits
    from mmvitreg.datasets.digits_manifest import check_digits
    from mmvitreg.experiments.tool_runs import ROOT
    data = prepare_digits(osp.join(ROOT, 'data', 'digits'))['root']
    for line in check_digits(data):  # other data: named, not fatal
        print(line)
    schedule = Schedule(args.epochs, args.seg_iters)
    out = args.out or args.work_dir
    if args.import_runs:
        try:
            imported = import_runs(args.import_runs, rows, seeds,
                                   args.work_dir, schedule)
        except (OSError, ValueError) as err:
            raise SystemExit(f'ablation: {err}') from err
        print(f'imported {len(imported)} finished runs from '
              f'{args.import_runs}')
    if args.report_only:
        records = [r for r in (load_result(args.work_dir, row.name, seed)
                               for row, seed in plan(rows, seeds)) if r]
        table = write_report(records, seeds, schedule, out)
        print(f'{len(records)} finished runs -> {out}\n{table}')
        return table
    start = time.time()
    records = run_ablation(
        rows, seeds, args.work_dir, schedule, args.jobs,
        on_result=lambda recs: write_report(recs, seeds, schedule, out))
    table = write_report(records, seeds, schedule, out,
                         wall_seconds=round(time.time() - start, 1))
    print(f'\nmmvitreg ablation ({time.time() - start:.0f}s)\n{table}')
    return table


if __name__ == '__main__':
    main()
