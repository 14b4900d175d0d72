"""Per-GPU memory plan of training configs, without a GPU.

Usage::

    python tools/analysis/estimate_memory.py CONFIG [CONFIG ...]
        [--gpu-mem 80] [--gpus N] [--amp [float16|bfloat16]] [--json OUT]

For each config: parameters, buffers, gradients, optimizer state, EMA
copy, DDP buckets or FSDP's gathered blocks, the activations autograd
saves at the config's per-GPU batch and image size (fake CUDA tensors,
the config's AMP dtype and ``with_cp``), the total and whether it fits in
``--gpu-mem`` GiB with 10% kept free. ``--gpus``: GPUs the run uses
(default: the recipe's; FSDP shards by it). ``--amp``: as
``tools/train.py --amp`` (AmpOptimWrapper, float16 unless named).
How it is counted: mmvitreg/analysis/memory_plan.py.
"""
import argparse
import json
import os.path as osp
import sys

import mmvitreg  # noqa: F401,I001  (compat layer + registration first)

# isort: split
from mmengine.config import Config

from mmvitreg.analysis.memory_plan import estimate, plan_text, with_amp


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--gpu-mem', type=float, default=80.0,
                        help='GiB per GPU (default 80)')
    parser.add_argument('--gpus', type=int,
                        help="GPUs of the run (default: the recipe's)")
    parser.add_argument('--amp', nargs='?', const='float16',
                        choices=['float16', 'bfloat16'],
                        help='plan the run as tools/train.py --amp')
    parser.add_argument('--json', help='also write the plans here')
    args = parser.parse_args(argv)
    if args.gpus is not None and args.gpus < 1:
        parser.error(f'--gpus must be >= 1, got {args.gpus}')
    for path in args.configs:
        if not osp.isfile(path):
            parser.error(f'config {path!r} does not exist')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    plans = []
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.amp:
            cfg = with_amp(cfg, args.amp)
        plan = estimate(cfg, args.gpus, args.gpu_mem)
        plans.append(plan)
        print(plan_text(plan), flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump([p.as_dict() for p in plans], f, indent=1)
    return 0 if all(p.fits for p in plans) else 1


if __name__ == '__main__':
    sys.exit(main())
