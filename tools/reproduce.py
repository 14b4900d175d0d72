"""Reproduce one row of the papers' tables with one command.

    python tools/reproduce.py --list
    python tools/reproduce.py upernet_deit_s24_ade20k --dry-run
    python tools/reproduce.py upernet_swin_l_cityscapes --launcher slurm \
        --partition gpu --gpus 8 --input swin_l_22k=pretrain/swin_l_22k.pth
    python tools/reproduce.py upernet_deit_s24_ade20k --tiny   # digits, CPU

Each ROW is a chain of stages (pretrain, convert where needed, fine-tune,
stage 2 where the recipe has one, test), each run as one process through
the suite's tools and launchers (``--launcher none|pytorch|slurm``). The
hand-off checkpoints are found from each stage's work dir; a finished
stage is skipped on a rerun, an interrupted one resumes. The end prints
measured vs published. ``--dry-run`` prints the commands (a checkpoint
not written yet appears as ``$(cat DIR/last_checkpoint)``); ``ROW all``
with ``--dry-run`` prints every row's. ``--tiny`` runs the same chain on
the digits demo configs with a few iterations per stage.
"""
import argparse
import os.path as osp
import sys

import mmvitreg  # noqa: F401  (model zoo: published numbers)

# isort: split
from mmvitreg.experiments.reproduce import (
    ROWS,
    Context,
    Launch,
    get_row,
    result_table,
    row_listing,
    run_row,
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('rows', nargs='*', metavar='ROW',
                   help='one or more rows (see --list), or all; rows run '
                   'one after the other and share their common stages')
    p.add_argument('--list', action='store_true',
                   help='print every row with its published number')
    p.add_argument('--launcher', choices=('none', 'pytorch', 'slurm'),
                   default='none', help='how each stage is launched')
    p.add_argument('--gpus', type=int, default=8,
                   help='processes per train/test stage (pytorch, slurm; '
                   'with --tiny on a CPU, e.g. 2 gloo processes)')
    p.add_argument('--partition', default='', help='Slurm partition')
    p.add_argument('--work-dir', default=None,
                   help='root of the stages\' work dirs (default '
                   'work_dirs/reproduce, --tiny: work_dirs/reproduce_tiny)')
    p.add_argument('--dry-run', action='store_true',
                   help='print the commands, run nothing')
    p.add_argument('--tiny', action='store_true',
                   help='the same chain on the digits demo configs')
    p.add_argument('--data-root', default='data/digits',
                   help='--tiny: the digits tree (written if missing)')
    p.add_argument('--input', action='append', default=[],
                   metavar='NAME=PATH', help='an external file a stage '
                   'reads (e.g. swin_l_22k=..., nfnet_f6=...)')
    args = p.parse_args(argv)
    if not args.list and not args.rows:
        p.error('give a ROW or --list')
    if 'all' in args.rows and not (args.dry_run or args.list):
        p.error('ROW all only with --dry-run or --list')
    for item in args.input:
        if '=' not in item:
            p.error(f'--input {item!r}: expected NAME=PATH')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    names = (list(ROWS) if not args.rows or 'all' in args.rows else
             args.rows)
    try:
        rows = [get_row(name) for name in names]
    except KeyError as err:
        sys.exit(f'reproduce.py: error: {err.args[0]}')
    if args.list:
        print(row_listing(names))
        return 0
    launch = Launch(args.launcher, args.gpus, args.partition)
    work_root = args.work_dir or osp.join(
        'work_dirs', 'reproduce_tiny' if args.tiny else 'reproduce')
    ctx = Context(launch, work_root, args.tiny, args.data_root,
                  dict(item.split('=', 1) for item in args.input),
                  args.dry_run)
    for row in rows:
        if args.tiny and row.tiny_note:
            print(f'[{row.name}] --tiny differs: {row.tiny_note}')
        runs = run_row(row, ctx)
        if not args.dry_run:
            print(result_table(row.name, runs, args.tiny))
    return 0


if __name__ == '__main__':
    sys.exit(main())
