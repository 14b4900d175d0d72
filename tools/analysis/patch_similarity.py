"""Per-layer patch cosine similarity of trained classifiers (over-smoothing).

Reproduces the diagnosis of Gong et al. (2021, Figure 1): for every block of
a ViT / Swin backbone, the mean over images of the mean pairwise cosine
similarity between different patch tokens, ``(|s|^2 - N) / (N (N - 1))``
with ``s = sum_i h_i / |h_i|`` (see
``mmvitreg/models/utils/patch_similarity.py``).

Usage::

    python tools/analysis/patch_similarity.py \
        CONFIG CKPT [CONFIG2 CKPT2 ...] [--num-images 256] \
        [--split val|train|test] [--out work_dirs/patch_similarity] \
        [--labels baseline cosine] [--cfg-options key=value ...]

Writes ``OUT/patch_similarity.csv`` (label, layer, similarity),
``OUT/patch_similarity.json`` and ``OUT/patch_similarity.png`` (one line per
checkpoint) and prints a table. Only those three files are written.
"""
import argparse
import os
import os.path as osp
import sys

import mmvitreg  # noqa: F401  (compat layer + registration first)

# isort: split
from mmengine.config import DictAction

from mmvitreg.analysis.checkpoint_similarity import (
    checkpoint_similarity,
    default_labels,
)
from mmvitreg.analysis.similarity_report import (
    format_table,
    write_csv,
    write_json,
    write_plot,
)
from mmvitreg.cli.checkpoint_check import CheckpointMismatchError
from mmvitreg.utils.finite import NonFiniteError

OUT_NAME = 'patch_similarity'
__all__ = ['default_labels', 'main', 'parse_args']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Per-layer mean pairwise cosine similarity of patch '
        'tokens (over-smoothing diagnosis) for one or more checkpoints.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        'pairs', nargs='+', metavar='CONFIG CKPT',
        help='config file and checkpoint, repeated for each model')
    parser.add_argument('--num-images', type=int, default=256,
                        help='images to average over')
    parser.add_argument('--split', choices=['val', 'train', 'test'],
                        default='val', help='which data loader of the '
                        'config to read (in file order, no shuffling)')
    parser.add_argument('--out', default=osp.join('work_dirs', OUT_NAME),
                        help='output folder (created if missing)')
    parser.add_argument('--labels', nargs='+', default=None,
                        help='one legend label per checkpoint (default: '
                        'checkpoint file names)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='override the data loader batch size')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='override the data loader workers')
    parser.add_argument('--device', default=None,
                        help='torch device (default: cuda if available)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed (train split augmentations)')
    parser.add_argument('--no-final-norm', action='store_true',
                        help='read the last block before the final norm')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default=None,
        help='override settings of every config, key=value')
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error('expected CONFIG CKPT pairs, got an odd number of '
                     f'positional arguments: {args.pairs}')
    if args.num_images < 1:
        parser.error('--num-images must be positive')
    num_models = len(args.pairs) // 2
    if args.labels is not None and len(args.labels) != num_models:
        parser.error(f'--labels got {len(args.labels)} labels for '
                     f'{num_models} checkpoints')
    return args


def measure(config: str, checkpoint: str, args) -> dict:
    """The similarity curve of one pair, with the CLI's settings."""
    return checkpoint_similarity(
        config, checkpoint, args.num_images, split=args.split,
        cfg_options=args.cfg_options, batch_size=args.batch_size,
        num_workers=args.num_workers, device=args.device, seed=args.seed,
        final_norm=not args.no_final_norm)


def main(argv=None) -> int:
    args = parse_args(argv)
    configs, checkpoints = args.pairs[0::2], args.pairs[1::2]
    labels = args.labels or default_labels(checkpoints)
    try:
        results = [(label, measure(config, ckpt, args))
                   for label, config, ckpt in zip(labels, configs,
                                                  checkpoints, strict=True)]
    except (CheckpointMismatchError, NonFiniteError, FileNotFoundError,
            KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    paths = {ext: osp.join(args.out, f'{OUT_NAME}.{ext}')
             for ext in ('csv', 'json', 'png')}
    write_csv(paths['csv'], results)
    write_json(paths['json'], results, args.split, args.num_images,
               not args.no_final_norm)
    write_plot(paths['png'], results)
    print(format_table(results))
    print('Wrote ' + ', '.join(paths.values()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
