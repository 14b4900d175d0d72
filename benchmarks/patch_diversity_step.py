"""Overhead of the patch-diversification objective (not a test).

Measures one training step (forward, backward, AdamW update) of DeiT-S24 at
224 px in three variants, each in a fresh subprocess so that peak memory is
its own:

* ``timm``: timm's ``vit_small_patch16_224`` with 24 blocks, plain CE step;
* ``baseline``: the suite's ``configs/pretrain/deit_s24.py`` model
  (mmpretrain ``ImageClassifier``) through ``model.train_step``;
* ``diverse``: ``configs/pretrain/deit_s24_diverse.py`` (cosine + contrastive
  + mixing losses) through ``model.train_step``.

and prints ratios: diverse / baseline (target: < 1.03 on GPU, < 1.10 on
CPU) and baseline / timm. Peak memory is CUDA's ``max_memory_allocated`` on
GPU and the process's peak RSS on CPU.

    python benchmarks/patch_diversity_step.py [--device cpu|cuda]
        [--batch-size 8] [--steps 3] [--warmup 1]
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {'baseline': 'configs/pretrain/deit_s24.py',
           'diverse': 'configs/pretrain/deit_s24_diverse.py'}


def _timm_step(args, device):
    import timm
    import torch
    model = timm.create_model('vit_small_patch16_224', depth=24,
                              drop_path_rate=0.1, num_classes=1000).to(device)
    optim = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05)
    images = torch.randn(args.batch_size, 3, 224, 224, device=device)
    labels = torch.randint(0, 1000, (args.batch_size, ), device=device)

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels,
                                                 label_smoothing=0.1)
        optim.zero_grad()
        loss.backward()
        optim.step()

    return step


def _suite_step(args, device, config):
    import torch
    import mmvitreg  # noqa: F401
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    from mmvitreg.models.utils import model_config
    cfg = Config.fromfile(osp.join(ROOT, config))
    init_default_scope('mmpretrain')
    model = MODELS.build(model_config(cfg)).to(device)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=5e-4,
                                           weight_decay=0.05))
    images = torch.randint(0, 256, (args.batch_size, 3, 224, 224),
                           dtype=torch.uint8)
    samples = [DataSample().set_gt_label(i % 1000)
               for i in range(args.batch_size)]
    data = dict(inputs=list(images), data_samples=samples)

    def step():
        model.train_step(data, optim)

    return step


def measure(args) -> dict:
    import torch
    torch.manual_seed(0)
    device = torch.device(args.device)
    step = (_timm_step(args, device) if args.variant == 'timm' else
            _suite_step(args, device, CONFIGS[args.variant]))
    for _ in range(args.warmup):
        step()
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == 'cuda':
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(variant=args.variant,
                step_s=(time.perf_counter() - start) / args.steps,
                peak_mib=peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--variant', choices=['timm', *CONFIGS],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure(args)))
        return
    results = {}
    for variant in ('timm', *CONFIGS):
        out = subprocess.run(
            [sys.executable, __file__, '--variant', variant, '--device',
             args.device, '--batch-size', str(args.batch_size), '--steps',
             str(args.steps), '--warmup', str(args.warmup)],
            capture_output=True, text=True, check=True).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
        r = results[variant]
        print(f'{variant:>9}: {r["step_s"]:.3f} s/step, '
              f'peak {r["peak_mib"]:.0f} MiB', flush=True)
    base, div, timm_ = (results[k] for k in ('baseline', 'diverse', 'timm'))
    print(f'DeiT-S24 224px, batch {args.batch_size}, {args.device}:')
    print(f'  time   diverse/baseline = {div["step_s"] / base["step_s"]:.3f}'
          f'   baseline/timm = {base["step_s"] / timm_["step_s"]:.3f}')
    print(f'  memory diverse/baseline = {div["peak_mib"] / base["peak_mib"]:.3f}'
          f'   baseline/timm = {base["peak_mib"] / timm_["peak_mib"]:.3f}')


if __name__ == '__main__':
    main()
