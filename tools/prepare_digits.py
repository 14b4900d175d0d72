"""Write the embedded default data set (scikit-learn's handwritten digits) in
ImageNet, ADE20K and Cityscapes layouts.

    python tools/prepare_digits.py                  # -> data/digits
    python tools/prepare_digits.py --force --train-scenes 600

Deterministic (same arguments, same bytes) and idempotent: a second run with
the same arguments does nothing; other arguments need ``--force``. See
``mmvitreg/datasets/digits/__init__.py`` for the layouts and label coding.
"""
import argparse
import json
import sys
import time

from mmvitreg.datasets.digits import MARKER, prepare_digits


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--out', default='data/digits', help='root of the tree')
    p.add_argument(
        '--size',
        type=int,
        default=32,
        help='side of the classification images (px)')
    p.add_argument(
        '--scene-size',
        type=int,
        default=64,
        help='side of the segmentation scenes (px)')
    p.add_argument('--train-scenes', type=int, default=300,
                   help='segmentation training scenes')
    p.add_argument('--val-scenes', type=int, default=60,
                   help='segmentation validation scenes')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the split and the scene layout')
    p.add_argument(
        '--force',
        action='store_true',
        help='regenerate a tree written with other arguments')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    start = time.perf_counter()
    try:
        paths = prepare_digits(
            a.out,
            size=a.size,
            scene_size=a.scene_size,
            train_scenes=a.train_scenes,
            val_scenes=a.val_scenes,
            seed=a.seed,
            force=a.force)
    except (FileExistsError, ValueError, TypeError) as e:
        sys.exit(f'prepare_digits.py: error: {e}')
    with open(paths['marker']) as f:
        counts = json.load(f)['counts']
    print(f'digits data set ready in {time.perf_counter() - start:.1f} s '
          f'({MARKER}: {counts})')
    for key in ('imagenet', 'ade', 'cityscapes'):
        print(f'  {key:<10} {paths[key]}')


if __name__ == '__main__':
    main()
