"""Overhead of token labeling's dense head (not a test).

Times one training step (``model.train_step``: data preprocessor, forward,
backward, AdamW update) of DeiT-S at 224 px built from
``configs/pretrain/deit_s_token_labeling.py`` in three variants:

* ``baseline``: the same model as a plain mmpretrain ``ImageClassifier``
  (class-token loss only, no MixToken);
* ``dense``: ``TokenLabelingClassifier`` with the dense head and
  ``TokenLabelingLoss``, MixToken off;
* ``dense+mixtoken``: the config as written (dense head + MixToken).

The variants run interleaved step by step in one process (the machine is
shared, so alternating keeps slow phases from landing on one variant) and
the median step time of each is reported with the ratio to the baseline
(target: dense / baseline within 1.05), as wall time and as the process's
CPU time (less sensitive to other jobs on a shared CPU machine); the
matmul/conv FLOPs of one forward + backward (``torch.utils.flop_counter``)
give the load-independent part of the comparison.

    python benchmarks/token_labeling_step.py [--batch-size 8] [--steps 5]
        [--warmup 1] [--device cpu]
"""
import argparse
import copy
import os.path as osp
import statistics
import time
from typing import Callable, Optional, Tuple

import torch

import mmvitreg  # noqa: F401  (compat layer and registries first)

# isort: split
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/pretrain/deit_s_token_labeling.py'
NUM_CLASSES = 1000
GRID = (14, 14)


def build_variants(device: torch.device,
                   options: Optional[dict] = None) -> dict:
    """``{name: (model, optim_wrapper)}`` of the three variants;
    ``options``: ``--cfg-options``-style dotted overrides of the config."""
    config = Config.fromfile(osp.join(ROOT, CONFIG))
    if options:
        config.merge_from_dict(options)
    cfg = config.model
    baseline = copy.deepcopy(cfg)
    baseline.type = 'ImageClassifier'
    for key in ('dense_head', 'mix_token', 'aux_inference_weight'):
        baseline.pop(key)
    dense = copy.deepcopy(cfg)
    dense.mix_token = None
    variants = {}
    for name, model_cfg in (('baseline', baseline), ('dense', dense),
                            ('dense+mixtoken', cfg)):
        torch.manual_seed(0)
        model = MODELS.build(model_cfg).to(device)
        model.train()
        optim = OptimWrapper(
            torch.optim.AdamW(model.parameters(), lr=1e-4,
                              weight_decay=0.05))
        variants[name] = (model, optim)
    return variants


def make_batch(batch_size: int, img_size: int = 224,
               grid: Tuple[int, int] = GRID,
               num_classes: int = NUM_CLASSES) -> dict:
    """uint8 images and per-sample ``token_label`` ``(K, *grid)``; fresh
    samples every step because MixToken writes mixed targets into them."""
    images = torch.randint(0, 256, (batch_size, 3, img_size, img_size),
                           dtype=torch.uint8)
    samples = []
    for i in range(batch_size):
        sample = DataSample().set_gt_label(i % num_classes)
        sample.set_field(torch.randn(num_classes, *grid).softmax(0),
                         'token_label', field_type='data')
        samples.append(sample)
    return dict(inputs=list(images), data_samples=samples)


def time_variants(variants: dict, batch: Callable[[], dict], steps: int,
                  warmup: int, device: torch.device) -> Tuple[dict, dict]:
    """Per-variant step times (wall, process CPU), interleaved step by
    step; ``batch()`` makes a fresh batch for every step."""
    times = {name: [] for name in variants}
    cpu_times = {name: [] for name in variants}
    for step in range(warmup + steps):
        for name, (model, optim) in variants.items():
            data = batch()
            if device.type == 'cuda':
                torch.cuda.synchronize()
            start, cpu_start = time.perf_counter(), time.process_time()
            model.train_step(data, optim)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            if step >= warmup:
                times[name].append(time.perf_counter() - start)
                cpu_times[name].append(time.process_time() - cpu_start)
    return times, cpu_times


def count_flops(model, batch_size: int) -> int:
    """FLOPs of one loss forward + backward (``FlopCounterMode``: matmuls
    and convolutions), a load-independent view of the same overhead."""
    from torch.utils.flop_counter import FlopCounterMode
    data = model.data_preprocessor(make_batch(batch_size), True)
    with FlopCounterMode(display=False) as counter:
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
    model.zero_grad()
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    device = torch.device(args.device)
    init_default_scope('mmpretrain')
    variants = build_variants(device)
    times, cpu_times = time_variants(
        variants, lambda: make_batch(args.batch_size), args.steps,
        args.warmup, device)
    base = statistics.median(times['baseline'])
    cpu_base = statistics.median(cpu_times['baseline'])
    print(f'DeiT-S 224 px, batch {args.batch_size}, {args.steps} steps '
          f'(median), device {device}, torch threads '
          f'{torch.get_num_threads()}')
    flops = {name: count_flops(model, args.batch_size)
             for name, (model, _) in variants.items()}
    for name, values in times.items():
        median = statistics.median(values)
        cpu = statistics.median(cpu_times[name])
        print(f'{name:>16}: wall {median:.3f} s/step (ratio '
              f'{median / base:.3f}), process CPU {cpu:.3f} s/step (ratio '
              f'{cpu / cpu_base:.3f})  wall all: '
              f'{", ".join(f"{v:.2f}" for v in values)}')
        print(f'{"":>16}  fwd+bwd {flops[name] / 1e9:.1f} GFLOP (ratio '
              f'{flops[name] / flops["baseline"]:.4f})')


if __name__ == '__main__':
    main()
