"""Measurements of ``benchmarks/gpu_acceptance.py`` (not a test).

Each function measures one thing on a device and returns plain numbers:

* :func:`matmul_tflops`: bf16 matrix-multiply throughput, the practical
  peak that MFU divides by;
* :func:`amp_train`: AMP train steps of a config's real model through its
  own optimizer wrapper (``AmpOptimWrapper``) on a synthetic batch at a
  chosen batch size: losses, step time, images/s, peak memory;
* :func:`step_flops`: FLOPs of one such step (``torch.utils.flop_counter``);
* :func:`slide_images_per_s`: sliding-window inference throughput of a
  segmentation config;
* :func:`compile_ratio`: step time with ``torch.compile`` (the model's
  ``forward``, as mmengine's ``cfg.compile``) over eager.

Only APIs present in torch 2.11 are used (the GPU image's version).
"""
import copy
import math
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _timed(call: Callable[[], object], device: torch.device, repeats: int,
           warmup: int = 1) -> float:
    """Seconds that ``repeats`` calls of ``call`` take, after ``warmup``
    untimed calls (lazy initialisation, cuDNN/cuBLAS autotuning and the
    allocator's first requests stay out of the timing); the device is
    synchronised before and after, since CUDA calls return before their
    kernels finish."""
    for _ in range(warmup):
        call()
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    _sync(device)
    return time.perf_counter() - start


def matmul_tflops(device: torch.device, n: int, iters: int) -> float:
    """TFLOP/s of ``n x n`` bf16 matmuls (``2 n^3`` FLOPs each)."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    seconds = _timed(lambda: a @ b, device, iters, warmup=2)
    return 2 * n**3 * iters / seconds / 1e12


def load_config(config: str, options: Optional[dict] = None) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, config))
    if options:
        cfg.merge_from_dict(options)
    return cfg


def build_model(cfg: Config, device: torch.device) -> torch.nn.Module:
    """The config's model as the Runner builds it, without pretrained
    weights (none are here), SyncBN as BN (one process), in train mode."""
    from mmengine.model import revert_sync_batchnorm

    from mmvitreg.models.utils import model_config
    scope = cfg.get('default_scope', 'mmpretrain')
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    model_cfg = copy.deepcopy(model_config(cfg))
    model_cfg.pop('init_cfg', None)
    if 'backbone' in model_cfg:
        model_cfg.backbone.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope(scope):
        model = revert_sync_batchnorm(registry.build(model_cfg))
    return model.to(device).train()


def amp_wrapper(cfg: Config, model: torch.nn.Module,
                dtype: str = 'bfloat16'):
    """The config's optimizer wrapper (constructor, paramwise rules,
    clipping) as ``tools/train.py --amp`` builds it, in ``dtype``; on the
    CPU (dry run) the plain fp32 wrapper: mmengine's AmpOptimWrapper
    refuses a machine without an accelerator."""
    from mmengine.optim import build_optim_wrapper
    optim = copy.deepcopy(cfg.optim_wrapper)
    if next(model.parameters()).device.type == 'cuda':
        optim.type = 'AmpOptimWrapper'
        optim.setdefault('loss_scale', 'dynamic')
        optim.dtype = dtype
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        return build_optim_wrapper(model, optim)


def train_step_fn(cfg: Config, model, wrapper,
                  size: int) -> Callable[[], float]:
    """One ``model.train_step`` on a fresh synthetic batch; returns the
    loss (a fresh batch every step: MixToken writes into the samples)."""
    from mmvitreg.analysis.train_batch import train_batch
    scope = cfg.get('default_scope', 'mmpretrain')

    def step() -> float:
        data = train_batch(cfg, size)
        with DefaultScope.overwrite_default_scope(scope):
            log = model.train_step(data, wrapper)
        loss = log['loss']
        return float(loss.detach() if torch.is_tensor(loss) else loss)

    return step


def amp_train(cfg: Config, device: torch.device, size: int, steps: int,
              warmup: int) -> Dict[str, object]:
    """``warmup`` + ``steps`` AMP train steps at batch ``size``."""
    model = build_model(cfg, device)
    wrapper = amp_wrapper(cfg, model)
    step = train_step_fn(cfg, model, wrapper, size)
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    losses = [step() for _ in range(warmup)]
    _sync(device)
    start = time.perf_counter()
    losses += [step() for _ in range(steps)]
    _sync(device)
    seconds = (time.perf_counter() - start) / steps
    out = dict(batch=size, precision=('bf16 AmpOptimWrapper'
                                      if device.type == 'cuda' else 'fp32'),
               losses=losses,
               finite=all(math.isfinite(v) for v in losses),
               step_s=seconds, images_per_s=size / seconds)
    if device.type == 'cuda':
        out['peak_mib'] = torch.cuda.max_memory_allocated(device) / 2**20
    out['_step'] = step
    return out


def step_flops(step: Callable[[], float]) -> int:
    """FLOPs (forward + backward) of one call of ``step``."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return int(counter.get_total_flops())


def slide_images_per_s(config: str, device: torch.device,
                       repeats: int) -> float:
    """Images/s of ``test_step`` in slide mode on an ADE20K-aspect image
    (``benchmarks/upernet_step.py``'s inference step)."""
    import upernet_step as ups
    model = ups.seg_model(config, device)
    step = ups.inference_step(model, 'slide', batch_size=1)
    return repeats / _timed(step, device, repeats)


def compile_ratio(cfg: Config, device: torch.device, size: int, steps: int,
                  backend: str) -> Dict[str, float]:
    """Step time with ``model.forward`` compiled (mmengine's
    ``cfg.compile``, default target ``forward``) over eager, both AMP,
    compile time apart."""
    out = {}
    for name in ('eager', 'compiled'):
        torch._dynamo.reset()
        model = build_model(cfg, device)
        wrapper = amp_wrapper(cfg, model)
        if name == 'compiled':  # what mmengine's cfg.compile does
            model.forward = torch.compile(model.forward, backend=backend)
        step = train_step_fn(cfg, model, wrapper, size)
        start = time.perf_counter()
        step()
        _sync(device)
        out[f'{name}_first_step_s'] = time.perf_counter() - start
        out[f'{name}_step_s'] = _timed(step, device, steps) / steps
        del model, wrapper, step
    out['compiled_vs_eager_step_ratio'] = (out['compiled_step_s'] /
                                           out['eager_step_s'])
    out['backend'] = backend
    return out


def free(device: torch.device) -> None:
    import gc
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def tail(text: str, lines: int = 15) -> List[str]:
    return text.strip().splitlines()[-lines:]
