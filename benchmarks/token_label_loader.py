"""Data-loader throughput with and without token labels (not a test).

Iterates the digits ``ImageNetFolder`` training split through a torch
``DataLoader`` (mmengine's ``pseudo_collate``) with these pipelines:

* ``plain``: LoadImageFromFile -> RandomResizedCrop -> RandomFlip ->
  PackInputs;
* ``three-augment``: ``plain`` + DeiT III's ``ThreeAugment`` after the flip;
* ``token``: LoadImageFromFile -> LoadTokenLabel -> RandomResizedCropWithBox
  -> RandomFlip -> AlignTokenLabel -> PackInputs(algorithm_keys=
  ['token_label']), the dense ``(K, Ht, Wt)`` target made per sample;
* ``token-batch``: the same with ``AlignTokenLabel(expand='batch')``: the
  loader passes the compact top-k map on and the model expands the batch
  (``expand_token_labels``);

and prints images/s of each and the ratio to plain (target: >= 0.9). For
``token-batch`` it also prints the expansion's cost per batch on this
machine's CPU (on a GPU it runs on the device, once per step), and the
ratio with that cost charged to the loader. ``measure(parse_args([...]))``
returns the figures (``benchmarks/run_all.py``).
The token labels are a synthetic store (random top-k maps drawn from
``--classes-per-image`` classes per image; same format and sizes as the
generator writes) unless ``--store`` names a real one. Runs
alternate (plain, token, plain, token ...) and the best of ``--repeats``
counts, to damp the noise of a shared machine.

Two settings worth running::

    # digits as trained here: 32 px, 10 classes, 8x8 tokens, 4x4 map
    python benchmarks/token_label_loader.py
    # ImageNet-like sizes: 500x375 JPEGs, 224 px crops, 1000 classes,
    # 14x14 tokens, 18x18 top-5 maps (NFNet-F6 at 576 px)
    python benchmarks/token_label_loader.py --image-size 500 375 \\
        --scale 224 --num-classes 1000 --grid 14 --map-size 18
"""
import argparse
import os.path as osp
import tempfile
import time
from typing import List, Optional

import mmcv

import mmvitreg  # noqa: F401  (registers transforms and datasets)

# isort: split
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import DATASETS

from mmvitreg.datasets.digits import prepare_digits
from mmvitreg.structures.token_labels import (
    ShardWriter,
    expand_token_labels,
    merge_index,
    read_manifests,
)


def parse_args(argv: Optional[List[str]] = None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data-root', help='ImageNet-layout root (default: '
                   'data/digits/imagenet, written to a temp dir if absent)')
    p.add_argument('--store', help='existing token-label store')
    p.add_argument('--image-size', type=int, nargs=2, metavar=('W', 'H'),
                   help='re-encode the images at this size (JPEG) to get an '
                   'ImageNet-like decode cost, e.g. 500 375')
    p.add_argument('--images', type=int, default=1024)
    p.add_argument('--scale', type=int, default=32, help='crop size')
    p.add_argument('--grid', type=int, default=8, help='token grid side')
    p.add_argument('--num-classes', type=int, default=10)
    p.add_argument('--map-size', type=int, default=4)
    p.add_argument('--topk', type=int, default=5)
    p.add_argument('--classes-per-image', type=int, default=32,
                   help='distinct classes in a synthetic map (annotator '
                   'maps are spatially coherent: few classes per image)')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--workers', type=int, default=0)
    p.add_argument('--repeats', type=int, default=3)
    return p.parse_args(argv)


def synthetic_store(out, keys, args):
    rng = np.random.default_rng(0)
    k, m, n = args.topk, args.map_size, args.num_classes
    pool_size = max(min(args.classes_per_image, n), k)
    w = ShardWriter(out, topk=k, num_classes=n, shard_size=1024)
    for key in keys:
        pool = rng.choice(n, pool_size, replace=False)
        idx = pool[np.argsort(rng.random((m * m, pool_size)), axis=1)[:, :k]]
        w.add(key, rng.normal(size=(k, m, m)).astype(np.float16),
              idx.T.reshape(k, m, m).astype(np.int16))
    w.close()
    merge_index(out, read_manifests(out))
    return out


def resized_copy(root, out, keys, size):
    for key in keys:
        img = mmcv.imread(osp.join(root, 'train', key))
        mmcv.imwrite(mmcv.imresize(img, size, interpolation='bicubic'),
                     osp.join(out, 'train', key))
    return out


def build_loader(root, ann_file, args, store=None, expand='transform',
                 three_augment=False):
    crop = 'RandomResizedCropWithBox' if store else 'RandomResizedCrop'
    pipeline = [dict(type='LoadImageFromFile')]
    if store:
        pipeline.append(dict(type='LoadTokenLabel', store_root=store))
    pipeline += [
        dict(type=crop, scale=args.scale),
        dict(type='RandomFlip', prob=0.5, direction='horizontal')
    ]
    if three_augment:  # DeiT III's, after crop and flip as in its configs
        pipeline.append(dict(type='ThreeAugment', color_jitter=0.3))
    if store:
        pipeline.append(
            dict(type='AlignTokenLabel', grid=args.grid,
                 num_classes=args.num_classes, expand=expand))
    pipeline.append(
        dict(type='PackInputs',
             algorithm_keys=['token_label'] if store else []))
    dataset = DATASETS.build(
        dict(type='ImageNetFolder', data_root=root, data_prefix='train',
             ann_file=ann_file, pipeline=pipeline))
    return torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, num_workers=args.workers,
        collate_fn=pseudo_collate, shuffle=True)


def images_per_second(loader) -> float:
    n, t0 = 0, time.perf_counter()
    for batch in loader:
        n += len(batch['inputs'])
    return n / (time.perf_counter() - t0)


def expansion_seconds(loader) -> float:
    """Mean time of ``expand_token_labels`` per batch of ``loader``."""
    batches = [[ds.token_label for ds in b['data_samples']] for b in loader]
    t0 = time.perf_counter()
    for crops in batches:
        expand_token_labels(crops)
    return (time.perf_counter() - t0) / len(batches)


def measure(args) -> dict:
    """Best images/s of each loader (``plain``, ``three-augment``,
    ``token``, ``token-batch``) and ``expand_s``, the batch expansion's
    seconds per batch."""
    # as inside data-loader workers (torch sets 1 thread there): tiny
    # per-sample torch copies otherwise pay OpenMP start-up under contention
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix='tl_bench_')
    root = args.data_root or 'data/digits/imagenet'
    if not osp.isdir(root):
        root = prepare_digits(osp.join(tmp, 'digits'))['imagenet']
    with open(osp.join(root, 'meta/train.txt')) as f:
        lines = f.readlines()[:args.images]
    ann_file = osp.join(tmp, 'train_subset.txt')
    with open(ann_file, 'w') as f:
        f.writelines(lines)
    keys = [line.split()[0] for line in lines]
    if args.image_size:
        root = resized_copy(root, osp.join(tmp, 'resized'), keys,
                            tuple(args.image_size))
    store = args.store or synthetic_store(osp.join(tmp, 'store'), keys, args)
    loaders = {
        'plain': build_loader(root, ann_file, args),
        'token': build_loader(root, ann_file, args, store),
        'token-batch': build_loader(root, ann_file, args, store, 'batch'),
        'three-augment': build_loader(root, ann_file, args,
                                      three_augment=True),
    }
    best = {name: 0.0 for name in loaders}
    for loader in loaders.values():  # warm-up (index load, workers)
        images_per_second(loader)
    for _ in range(args.repeats):
        for name, loader in loaders.items():
            best[name] = max(best[name], images_per_second(loader))
    best['expand_s'] = expansion_seconds(loaders['token-batch'])
    best['images'] = len(keys)
    return best


def main():
    args = parse_args()
    best = measure(args)
    expand = best.pop('expand_s')
    print(f'{best["images"]} images, crop {args.scale}, grid {args.grid}x'
          f'{args.grid}, {args.num_classes} classes, top-{args.topk} '
          f'{args.map_size}x{args.map_size} maps, batch {args.batch_size}, '
          f'{args.workers} workers')
    best.pop('images')
    for name, v in best.items():
        print(f'{name:>11}: {v:8.1f} images/s   ratio to plain '
              f'{v / best["plain"]:.3f} (target >= 0.90)')
    charged = 1 / (1 / best['token-batch'] + expand / args.batch_size)
    print(f'expand_token_labels: {expand * 1e3:.2f} ms per batch of '
          f'{args.batch_size} (CPU); token-batch with it charged: '
          f'{charged:.1f} images/s, ratio {charged / best["plain"]:.3f}')


if __name__ == '__main__':
    main()
