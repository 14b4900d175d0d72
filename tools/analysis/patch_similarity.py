"""Per-layer patch cosine similarity of trained classifiers (over-smoothing).

Reproduces the diagnosis of Gong et al. (2021, Figure 1): for every block of
a ViT / Swin backbone, the mean over images of the mean pairwise cosine
similarity between different patch tokens, ``(|s|^2 - N) / (N (N - 1))``
with ``s = sum_i h_i / |h_i|`` (see ``mmvitreg/analysis/patch_similarity.py``).

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
import csv
import json
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Sequence, Tuple

import mmvitreg  # noqa: F401,I001  (compat layer + registration first)
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict

from mmvitreg.analysis.patch_similarity import block_modules, layer_similarity

OUT_NAME = 'patch_similarity'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not match the model of its config."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Per-layer mean pairwise cosine similarity of patch '
        'tokens (over-smoothing diagnosis) for one or more checkpoints.')
    parser.add_argument(
        'pairs', nargs='+', metavar='CONFIG CKPT',
        help='config file and checkpoint, repeated for each model')
    parser.add_argument('--num-images', type=int, default=256,
                        help='images to average over (default 256)')
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


def default_labels(checkpoints: Sequence[str]) -> List[str]:
    """Checkpoint file stems; ``parent/stem`` where stems collide."""
    stems = [osp.splitext(osp.basename(c))[0] for c in checkpoints]
    counts = Counter(stems)
    labels = [
        stem if counts[stem] == 1 else
        f'{osp.basename(osp.dirname(osp.abspath(c)))}/{stem}'
        for stem, c in zip(stems, checkpoints)
    ]
    counts = Counter(labels)
    return [f'{label}#{i}' if counts[label] > 1 else label
            for i, label in enumerate(labels)]


def load_config(path: str, cfg_options) -> Config:
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_model(cfg: Config) -> torch.nn.Module:
    """The model of a config, with the top-level ``data_preprocessor``
    merged in as mmengine's ``Runner`` does."""
    from mmpretrain.registry import MODELS
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


def _first(keys: Sequence[str], k: int = 5) -> str:
    shown = ', '.join(keys[:k])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > k else '')


def load_checkpoint_strict(model: torch.nn.Module, checkpoint: str,
                           config: str) -> None:
    """Load ``checkpoint`` through mmengine's ``CheckpointLoader`` (the safe
    loader that ``import mmvitreg`` registers) with strict key checking.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointMismatchError: Naming the file and the first missing /
            unexpected keys, or the shape mismatches.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'Checkpoint not found: {checkpoint}')
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state_dict = ckpt.get('state_dict', ckpt) if isinstance(ckpt,
                                                            dict) else None
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError(
            f'{checkpoint}: expected a dict with a "state_dict", got '
            f'{type(ckpt).__name__}')
    state_dict = {(k[len('module.'):] if k.startswith('module.') else k): v
                  for k, v in state_dict.items()}
    expected = list(model.state_dict().keys())
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in set(expected)]
    if missing or unexpected:
        parts = [f'{checkpoint} does not match the model of {config}:']
        if missing:
            parts.append(f'{len(missing)} missing keys ({_first(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys '
                         f'({_first(unexpected)})')
        raise CheckpointMismatchError(' '.join(parts))
    try:
        load_state_dict(model, state_dict, strict=True)
    except RuntimeError as err:  # e.g. shape mismatches
        raise CheckpointMismatchError(
            f'{checkpoint} does not load into the model of {config}: '
            f'{err}') from err


def build_loader(cfg: Config, split: str, config: str, args) -> object:
    """The config's ``{split}_dataloader`` in file order (no shuffling)."""
    key = f'{split}_dataloader'
    if cfg.get(key) is None:
        raise KeyError(f'{config} has no {key}; choose another --split')
    loader_cfg = cfg[key].copy()
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader_cfg.pop('batch_sampler', None)
    if args.batch_size is not None:
        loader_cfg['batch_size'] = args.batch_size
    if args.num_workers is not None:
        loader_cfg['num_workers'] = args.num_workers
    if loader_cfg.get('num_workers', 0) == 0:
        loader_cfg['persistent_workers'] = False
    return Runner.build_dataloader(loader_cfg, seed=args.seed)


def measure(config: str, checkpoint: str, args) -> Dict:
    """The similarity curve of one checkpoint."""
    cfg = load_config(config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    set_random_seed(args.seed)
    model = build_model(cfg)
    load_checkpoint_strict(model, checkpoint, config)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model.to(device)
    loader = build_loader(cfg, args.split, config, args)
    curve = layer_similarity(
        model, loader, args.num_images, final_norm=not args.no_final_norm)
    return dict(
        config=config,
        checkpoint=checkpoint,
        backbone=type(getattr(model, 'backbone', model)).__name__,
        num_images=min(args.num_images, len(loader.dataset)),
        blocks=[name for name, _ in block_modules(model)],
        similarity=curve)


def write_csv(path: str, results: Sequence[Tuple[str, Dict]]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['label', 'layer', 'similarity'])
        for label, res in results:
            for layer, value in enumerate(res['similarity']):
                writer.writerow([label, layer, f'{value:.6f}'])


def write_json(path: str, results: Sequence[Tuple[str, Dict]], args) -> None:
    payload = dict(
        split=args.split,
        num_images_requested=args.num_images,
        final_norm=not args.no_final_norm,
        results=[dict(label=label, **res) for label, res in results])
    with open(path, 'w') as f:
        json.dump(payload, f, indent=2)


def write_plot(path: str, results: Sequence[Tuple[str, Dict]]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 4))
    lowest = 0.0
    for label, res in results:
        curve = res['similarity']
        ax.plot(range(len(curve)), curve, marker='o', label=label)
        lowest = min(lowest, *curve)
    ax.set_xlabel('block index')
    ax.set_ylabel('mean pairwise cosine similarity of patches')
    # cosine similarities of N patches are >= -1/(N-1): show rare negatives
    ax.set_ylim(0 if lowest >= 0 else lowest - 0.02, 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_table(results: Sequence[Tuple[str, Dict]]) -> str:
    labels = [label for label, _ in results]
    depth = max(len(res['similarity']) for _, res in results)
    width = max(10, *(len(label) for label in labels))
    lines = ['layer ' + ' '.join(label.rjust(width) for label in labels)]
    for layer in range(depth):
        cells = []
        for _, res in results:
            curve = res['similarity']
            cells.append((f'{curve[layer]:.4f}' if layer < len(curve) else
                          '-').rjust(width))
        lines.append(f'{layer:>5} ' + ' '.join(cells))
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    configs, checkpoints = args.pairs[0::2], args.pairs[1::2]
    labels = args.labels or default_labels(checkpoints)
    try:
        results = [(label, measure(config, ckpt, args))
                   for label, config, ckpt in zip(labels, configs,
                                                  checkpoints)]
    except (CheckpointMismatchError, FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    paths = {ext: osp.join(args.out, f'{OUT_NAME}.{ext}')
             for ext in ('csv', 'json', 'png')}
    write_csv(paths['csv'], results)
    write_json(paths['json'], results, args)
    write_plot(paths['png'], results)
    print(format_table(results))
    print('Wrote ' + ', '.join(paths.values()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
