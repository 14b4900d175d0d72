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

The pieces (``timm_step``, ``suite_model``, ``suite_step``, ``time_step``,
``saved_activation_bytes``) are also used by ``benchmarks/run_all.py``.

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
from typing import Callable, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {'baseline': 'configs/pretrain/deit_s24.py',
           'diverse': 'configs/pretrain/deit_s24_diverse.py'}


def timm_step(device, batch_size: int, img_size: int = 224,
              timm_kwargs: Optional[dict] = None) -> Callable[[], None]:
    """One plain CE + AdamW step of timm's ViT-S (24 blocks unless
    ``timm_kwargs`` says otherwise), as a closure."""
    import timm
    import torch
    kwargs = dict(depth=24, drop_path_rate=0.1, num_classes=1000,
                  img_size=img_size)
    kwargs.update(timm_kwargs or {})
    model = timm.create_model('vit_small_patch16_224', **kwargs).to(device)
    optim = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05)
    images = torch.randn(batch_size, 3, img_size, img_size, device=device)
    labels = torch.randint(0, 1000, (batch_size, ), device=device)

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels,
                                                 label_smoothing=0.1)
        optim.zero_grad()
        loss.backward()
        optim.step()

    return step


def suite_model(config: str, device, options: Optional[dict] = None):
    """The model of ``config`` (relative to the repository) as the Runner
    builds it, with ``--cfg-options``-style dotted ``options`` merged."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import mmvitreg  # noqa: F401
    from mmvitreg.models.utils import model_config
    cfg = Config.fromfile(osp.join(ROOT, config))
    if options:
        cfg.merge_from_dict(options)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(model_config(cfg)).to(device).train()


def suite_batch(batch_size: int, img_size: int = 224) -> dict:
    """uint8 images and class labels, as the loader hands them over."""
    import torch
    from mmpretrain.structures import DataSample
    images = torch.randint(0, 256, (batch_size, 3, img_size, img_size),
                           dtype=torch.uint8)
    samples = [DataSample().set_gt_label(i % 1000)
               for i in range(batch_size)]
    return dict(inputs=list(images), data_samples=samples)


def suite_step(model, batch_size: int,
               img_size: int = 224) -> Callable[[], None]:
    """One ``model.train_step`` (preprocessor, forward, backward, AdamW)."""
    import torch
    from mmengine.optim import OptimWrapper
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=5e-4,
                                           weight_decay=0.05))
    data = suite_batch(batch_size, img_size)

    def step():
        model.train_step(data, optim)

    return step


def time_step(step: Callable[[], None], device, steps: int,
              warmup: int) -> float:
    """Mean seconds per call of ``step`` after ``warmup`` calls."""
    import torch
    for _ in range(warmup):
        step()
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def saved_activation_bytes(model, data: dict) -> int:
    """Bytes of the tensors autograd saves for backward during one loss
    forward (data preprocessor included), each storage counted once and
    parameters left out: the activation memory of the objective,
    independent of the device and of the allocator."""
    import torch
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        data = model.data_preprocessor(data, True)
        losses = model(**data, mode='loss')
    del losses
    return sum(seen.values())


def _timm_step(args, device):
    return timm_step(device, args.batch_size)


def _suite_step(args, device, config):
    return suite_step(suite_model(config, device), args.batch_size)


def measure(args) -> dict:
    import torch
    torch.manual_seed(0)
    device = torch.device(args.device)
    step = (_timm_step(args, device) if args.variant == 'timm' else
            _suite_step(args, device, CONFIGS[args.variant]))
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    step_s = time_step(step, device, args.steps, args.warmup)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(variant=args.variant, step_s=step_s, peak_mib=peak)


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
    print('  memory diverse/baseline = '
          f'{div["peak_mib"] / base["peak_mib"]:.3f}'
          f'   baseline/timm = {base["peak_mib"] / timm_["peak_mib"]:.3f}')


if __name__ == '__main__':
    main()
