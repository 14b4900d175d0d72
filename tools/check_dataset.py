"""Validate a whole data split before a long run.

    python tools/check_dataset.py CONFIG [--split train|val|test]
        [--workers N] [--cfg-options k=v ...]

Reads every sample once: images decode, segmentation annotations have their
image's size and only valid ids, the class count equals the model's
``num_classes``, token labels (if the pipeline loads them) are intact and
cover every image. Prints a summary table; exits 1 on any problem.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvitreg  # noqa: E402,F401  (compat layer before mmseg, registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from mmvitreg.datasets.checks import check_split  # noqa: E402
from mmvitreg.utils.config import load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Validate a data split',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='config file path')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'],
                        help='which <split>_dataloader of the config')
    parser.add_argument('--workers', type=int, default=0,
                        help='reader processes (0: this process)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings, e.g. data roots')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    report = check_split(cfg, args.split, args.workers)
    print('\n' + report.table())
    print('OK' if report.ok else 'PROBLEMS FOUND')
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
