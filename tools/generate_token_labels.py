"""Write machine-annotator token labels (top-k dense score maps) for a split.

Token labeling (``methods.md`` section 2): a pretrained classifier's head is
applied at every location of its last feature map (``DenseAnnotator``) and
the top-k (score, class) pairs per location are stored for every image
(``mmvitreg/structures/token_labels/shard_format.py`` describes the
format; the logic lives in ``mmvitreg/token_labels/generation.py``).

Usage::

    # an mmpretrain classifier config + checkpoint
    python tools/generate_token_labels.py CONFIG.py CKPT \\
        --data-root data/imagenet --split train --out data/imagenet/tl
    # a timm model (checkpoint optional: a state dict file)
    python tools/generate_token_labels.py resnet18 resnet18.pth \\
        --data-root data/imagenet --out data/imagenet/tl --resolution 448
    # several processes (each annotates a disjoint slice, writes its own
    # shards; rank 0 merges the index at the end; gloo on CPU)
    torchrun --nproc_per_node 4 tools/generate_token_labels.py ...
    # check a store: every image of the split labelled, every shard readable
    python tools/generate_token_labels.py MODEL --data-root R --out DIR \\
        --verify

Images are listed from ``--ann-file`` (default ``meta/<split>.txt`` under the
data root when present, else every image under ``<data-root>/<split>``);
keys are paths relative to ``<data-root>/<split>``. Each image is resized as
a whole to ``S x S`` (so the map covers the full image, as the crop
transforms assume) and normalised as the model expects (mmpretrain: its
``data_preprocessor``; timm: its ``pretrained_cfg`` mean/std).

Resuming: shards are written atomically every ``--shard-size`` images, and
images already in a shard are skipped by the next run; a shard whose size
does not match its manifest is set aside (``*.corrupt``) and its images are
redone. ``--verify`` annotates nothing and exits 1 listing the problems.
"""
import argparse
import dataclasses
import os
import sys
import time

import mmvitreg  # noqa: F401  (compat layer and registries first)

# isort: split
from mmengine import dist
from mmengine.config import Config, DictAction

from mmvitreg.cli.parent_watch import die_with_launcher
from mmvitreg.engine.process_group import process_group
from mmvitreg.token_labels.generation import AnnotationJob, annotate
from mmvitreg.token_labels.image_list import list_images
from mmvitreg.token_labels.resume import verify_store

MAX_LISTED = 50


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Write top-k dense token labels of a machine annotator.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('model', help='mmpretrain classifier config (.py) or a '
                   'timm model name')
    p.add_argument('checkpoint', nargs='?', help='checkpoint (mmpretrain '
                   'checkpoint, or a timm state dict)')
    p.add_argument('--data-root', required=True, help='ImageNet-layout root')
    p.add_argument('--split', default='train',
                   help='split folder under --data-root (train, val)')
    p.add_argument('--ann-file', help='list of "relative/path [label]" lines '
                   '(default: <data-root>/meta/<split>.txt if present)')
    p.add_argument('--limit', type=int, help='first N images of the list')
    p.add_argument('--out', required=True, help='store directory')
    p.add_argument('--topk', type=int, default=5,
                   help='scores kept per token (the store is top-k)')
    p.add_argument('--resolution', type=int,
                   help='annotation input size S (default: the model\'s: '
                   'a ViT\'s img_size, else the config\'s test crop)')
    p.add_argument('--batch-size', type=int, default=32,
                   help='images per annotator forward pass')
    p.add_argument('--shard-size', type=int, default=1024,
                   help='images per store shard (the unit of resuming)')
    p.add_argument('--workers', type=int, default=2,
                   help='image-decoding workers per process')
    p.add_argument('--device', help='default: cuda if available, else cpu')
    p.add_argument('--model-kwargs', nargs='+', action=DictAction,
                   default={}, help='timm.create_model keyword arguments '
                   '(e.g. img_size=448 dynamic_img_size=True)')
    p.add_argument('--verify', action='store_true',
                   help='only check the store against the split')
    return p.parse_args(argv)


def job_of(args: argparse.Namespace) -> AnnotationJob:
    """The annotation settings among the parsed options."""
    names = [f.name for f in dataclasses.fields(AnnotationJob)]
    return AnnotationJob(**{name: getattr(args, name) for name in names})


def report_problems(out: str, keys, problems) -> int:
    """Print ``--verify``'s findings; the exit status."""
    for p in problems[:MAX_LISTED]:
        print(p)
    if len(problems) > MAX_LISTED:
        print(f'... and {len(problems) - MAX_LISTED} more problems')
    print(f'verify {out}: {len(keys)} images, {len(problems)} problem(s)')
    return 1 if problems else 0


def main(argv=None) -> int:
    die_with_launcher()  # a rank of a killed torchrun stops with it
    args = parse_args(argv)
    folder, keys = list_images(args.data_root, args.split, args.ann_file,
                               args.limit)
    if args.verify:
        return report_problems(args.out, keys, verify_store(args.out, keys))
    # Under torchrun: gloo on CPU, NCCL through mmengine with a GPU.
    several = int(os.environ.get('WORLD_SIZE', '1')) > 1
    with process_group(Config(), 'pytorch' if several else 'none',
                       open_cuda=True):
        t0 = time.time()
        n = annotate(job_of(args), folder, keys)
        print(f'rank {dist.get_rank()}: annotated {n} images in '
              f'{time.time() - t0:.1f} s', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
