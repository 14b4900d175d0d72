"""Per-GPU memory plan of a config's training step, without a GPU.

:func:`estimate` builds the config's model as the Runner does, swaps its
parameters and buffers for fake tensors (``FakeTensorMode``: exact shapes
and dtypes, no memory), runs one loss forward at the recipe's per-GPU
batch and image size on fake CUDA tensors under the config's AMP dtype and
activation checkpointing, and counts what a training step holds at its
peak (the start of backward):

* parameters and buffers, gradients, the optimizer state (by optimizer
  type, :mod:`.optimizer_states`) and an EMA copy, each divided by the
  number of GPUs under FSDP;
* DDP's gradient buckets (a second copy of the gradients when more than
  one GPU runs without FSDP); under FSDP instead the unsharded root plus
  two gathered blocks and one block's unsharded gradients;
* the tensors autograd saves for backward (:mod:`.saved_tensors`), with
  CUDA's fused attention kernels (:mod:`.cuda_kernels`); under
  ``with_cp`` the largest block's recomputed activations on top.

Left out: the CUDA context, cuBLAS/cuDNN workspaces and allocator
fragmentation, hence the verdict keeps :data:`HEADROOM` of the card free.
The estimate is what ``torch.cuda.max_memory_allocated`` should read; the
GPU acceptance script (``benchmarks/gpu_acceptance.py``) measures both.
"""
import contextlib
import copy
import ctypes
import gc
from dataclasses import asdict, dataclass
from typing import Iterator, List, Optional, Tuple

import torch
from mmengine.config import Config

from mmvitreg.engine.runner.fsdp import is_fsdp

from .cuda_kernels import cuda_attention, fake_cuda_autocast
from .optimizer_states import optimizer_state_bytes
from .saved_tensors import SavedTensorCounter
from .train_batch import batch_size, train_batch, train_image_size

#: Fraction of the card the estimate may fill and still "fit".
HEADROOM = 0.9
GIB = 2**30


@dataclass
class MemoryPlan:
    """Bytes per GPU of one training step at its peak."""
    config: str
    batch: int
    image_size: Tuple[int, int]
    gpus: int
    strategy: str
    amp: Optional[str]
    with_cp: bool
    params: int
    buffers: int
    grads: int
    optimizer: int
    ema: int
    comm: int
    activations: int
    recompute: int
    gpu_mem_gib: float

    @property
    def total(self) -> int:
        return (self.params + self.buffers + self.grads + self.optimizer +
                self.ema + self.comm + self.activations + self.recompute)

    @property
    def fits(self) -> bool:
        return self.total <= HEADROOM * self.gpu_mem_gib * GIB

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(total=self.total, fits=self.fits)
        return out


# ----- reading the config -----
def amp_dtype(cfg: Config) -> Optional[torch.dtype]:
    """The autocast dtype of the config's optim wrapper (None: fp32).
    ``AmpOptimWrapper`` without ``dtype`` autocasts CUDA to float16."""
    wrapper = cfg.optim_wrapper
    if wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        return None
    dtype = wrapper.get('dtype') or 'float16'
    if isinstance(dtype, str):
        if dtype not in ('float16', 'bfloat16', 'float32'):
            raise ValueError(f'{cfg.filename}: optim_wrapper.dtype={dtype!r}'
                             ' is not float16, bfloat16 or float32')
        dtype = getattr(torch, dtype)
    return None if dtype == torch.float32 else dtype


def uses_checkpointing(cfg: Config) -> bool:
    """``model.backbone.with_cp`` or mmengine's
    ``activation_checkpointing``."""
    backbone = cfg.model.get('backbone') or {}
    return bool(backbone.get('with_cp') or cfg.get('activation_checkpointing'))


def recipe_gpus(cfg: Config) -> Optional[int]:
    """GPUs the recipe is published for: ``num_gpus``, else
    ``auto_scale_lr.base_batch_size`` / per-GPU batch."""
    if cfg.get('num_gpus'):
        return int(cfg.num_gpus)
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    return base // batch_size(cfg) if base else None


def _ema_hook(cfg: Config) -> Optional[str]:
    for hook in cfg.get('custom_hooks') or []:
        if 'EMA' in str(hook.get('type')):
            return str(hook['type'])
    return None


# ----- building and running the model under fake tensors -----
def _build(cfg: Config, with_cp: bool):
    """The model as the Runner builds it (no weights loaded), SyncBN as BN
    (one process), on real CPU tensors: some constructors read values
    (Swin's drop-path rates use ``.item()``), which fake tensors cannot
    give. :func:`_fake` then swaps its tensors for fake ones."""
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope
    from mmengine.runner import turn_on_activation_checkpointing

    from mmvitreg.models.utils import model_config
    scope = cfg.get('default_scope', 'mmpretrain')
    if scope == 'mmseg':
        from mmseg.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    model_cfg = copy.deepcopy(model_config(cfg))  # a shallow copy
    if not with_cp and 'with_cp' in (model_cfg.get('backbone') or {}):
        model_cfg.backbone.with_cp = False
    with DefaultScope.overwrite_default_scope(scope), torch.device('cpu'):
        model = revert_sync_batchnorm(MODELS.build(model_cfg)).train()
    if with_cp and cfg.get('activation_checkpointing'):
        turn_on_activation_checkpointing(model, cfg.activation_checkpointing)
    return model


def _fake(model: torch.nn.Module, mode, device: str) -> torch.nn.Module:
    """``model`` with every parameter and buffer replaced by a fake tensor
    of ``mode`` on ``device`` (the real ones are freed)."""
    with mode:
        return model._apply(lambda t: mode.from_tensor(t).to(device))


def _blocks(model) -> List[torch.nn.Module]:
    from mmvitreg.engine.strategies.transformer_blocks import (
        is_transformer_block,
    )
    return [m for m in model.modules() if is_transformer_block(m)]


@contextlib.contextmanager
def _constant_seg_accuracy() -> Iterator[None]:
    """mmseg's decode heads log a pixel accuracy that indexes with a mask
    (an output size fake tensors cannot know); it is a metric, computed
    without gradient, so a zero stands in while the fake pass runs."""
    from mmseg.models.decode_heads import decode_head
    real = decode_head.accuracy

    def zero(pred, target, topk=1, *args, **kwargs):
        if isinstance(topk, int):
            return pred.new_zeros(())
        return [pred.new_zeros(()) for _ in topk]

    decode_head.accuracy = zero
    try:
        yield
    finally:
        decode_head.accuracy = real


@contextlib.contextmanager
def _batch_statistics_over_gpus() -> Iterator[None]:
    """SyncBN normalises over every GPU's batch, so one image per GPU
    (``upernet_swin_l_cityscapes.py``) is valid; reverted to BN in one
    process, the PPM's 1x1 pooled maps then hold one value per channel,
    which batch statistics refuse. Such a (negligible) map is normalised
    with the running statistics while the fake pass runs."""
    import torch.nn.functional as F
    real = F.batch_norm

    def batch_norm(input, *args, **kwargs):
        if input.numel() == input.size(1):
            # args: running_mean, running_var, weight, bias, training, ...
            if len(args) > 4:
                args = args[:4] + (False, ) + args[5:]
            else:
                kwargs['training'] = False
        return real(input, *args, **kwargs)

    F.batch_norm = batch_norm
    try:
        yield
    finally:
        F.batch_norm = real


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def preprocessed_batch(cfg: Config, size: int) -> dict:
    """A synthetic batch of ``size`` (:mod:`.train_batch`) through the
    config's data preprocessor (batch augments included), on real CPU
    tensors: it pads, stacks and mixes with data-dependent steps that fake
    tensors cannot take, and saves nothing for backward (its inputs need
    no gradient)."""
    from mmengine.registry import DefaultScope
    scope = cfg.get('default_scope', 'mmpretrain')
    model = _build(cfg, with_cp=False)
    with DefaultScope.overwrite_default_scope(scope):
        torch.manual_seed(0)
        return model.data_preprocessor(train_batch(cfg, size), True)


def saved_activation_bytes(cfg: Config, device: str, data: dict,
                           dtype: Optional[torch.dtype],
                           with_cp: bool) -> Tuple[int, int]:
    """(bytes saved for backward, the largest block's share) of one loss
    forward of ``cfg``'s model on the preprocessed batch ``data``
    (:func:`preprocessed_batch`, left unchanged) as fake ``device``
    tensors under autocast ``dtype`` (None: fp32)."""
    from mmengine.registry import DefaultScope
    from torch._subclasses.fake_tensor import FakeTensorMode
    cuda = device.startswith('cuda')
    scope = cfg.get('default_scope', 'mmpretrain')
    data = copy.deepcopy(data)
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    autocast = (fake_cuda_autocast(dtype) if cuda else torch.autocast(
        device, dtype=dtype or torch.bfloat16, enabled=dtype is not None))
    with cuda_attention() if cuda else _nothing():
        model = _fake(_build(cfg, with_cp), mode, device)
    with cuda_attention() if cuda else _nothing(), mode, \
            torch.device(device), DefaultScope.overwrite_default_scope(scope):
        data['inputs'] = data['inputs'].to(device)
        data['data_samples'] = [s.to(device) for s in data['data_samples']]
        counter = SavedTensorCounter(model.parameters(), _blocks(model))
        with counter, autocast, _constant_seg_accuracy(), \
                _batch_statistics_over_gpus():
            model(**data, mode='loss')
    return counter.total, max(counter.per_block.values(), default=0)


# ----- the plan -----
def _state_bytes(cfg: Config) -> Tuple[int, int, int, int, int, int]:
    """(params, buffers, grads, optimizer, largest block's params,
    params outside blocks) of the model, built on fake tensors."""
    model = _build(cfg, with_cp=False)
    params = list(model.parameters())
    nbytes = sum(p.numel() * p.element_size() for p in params)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    grads = sum(p.numel() * p.element_size() for p in params
                if p.requires_grad)
    optim = optimizer_state_bytes(cfg.optim_wrapper.optimizer, params)
    blocks = [sum(p.numel() * p.element_size() for p in b.parameters())
              for b in _blocks(model)]
    return (nbytes, buffers, grads, optim, max(blocks, default=0),
            nbytes - sum(blocks))


def _release_freed_memory() -> None:
    """Give freed heap pages back to the OS. Each estimate builds 2-4 real
    models; glibc kept their freed pages, so the process grew by ~0.55 GB
    per Swin-B estimate (10 GB over docs/recipes.md) unless trimmed."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def estimate(cfg: Config, gpus: Optional[int] = None,
             gpu_mem_gib: float = 80.0, device: str = 'cuda',
             data: Optional[dict] = None) -> MemoryPlan:
    """The per-GPU memory plan of ``cfg`` (see the module doc) on
    ``gpus`` GPUs (default: the recipe's, else 1) of ``gpu_mem_gib`` GiB.
    ``data``: the :func:`preprocessed_batch` at the config's batch size,
    when the caller already has it (it is the slow part on a CPU)."""
    gpus = gpus or recipe_gpus(cfg) or 1
    if gpus < 1:
        raise ValueError(f'gpus must be >= 1, got {gpus}')
    size = batch_size(cfg)
    dtype = amp_dtype(cfg)
    with_cp = uses_checkpointing(cfg)
    fsdp = is_fsdp(cfg)
    params, buffers, grads, optim, block, root = _state_bytes(cfg)
    shard = gpus if fsdp else 1
    ema = _ema_hook(cfg)
    if data is None:
        data = preprocessed_batch(cfg, size)
    saved, _ = saved_activation_bytes(cfg, device, data, dtype, with_cp)
    recompute = 0
    if with_cp:
        _, recompute = saved_activation_bytes(cfg, device, data, dtype,
                                              with_cp=False)
    if fsdp:
        comm = root + 3 * block  # root + 2 gathered blocks + 1 block's grads
    else:
        comm = grads if gpus > 1 else 0  # DDP's gradient buckets
    _release_freed_memory()
    ema_bytes = 0
    if ema:
        ema_bytes = (params + buffers) // (shard if ema == 'ShardedEMAHook'
                                           else 1)
    return MemoryPlan(
        config=cfg.filename, batch=size, image_size=train_image_size(cfg),
        gpus=gpus,
        strategy='FSDP' if fsdp else ('DDP' if gpus > 1 else 'single'),
        amp=str(dtype).replace('torch.', '') if dtype else None,
        with_cp=with_cp, params=params // shard, buffers=buffers,
        grads=grads // shard, optimizer=optim // shard, ema=ema_bytes,
        comm=comm, activations=saved, recompute=recompute,
        gpu_mem_gib=gpu_mem_gib)


def with_amp(cfg: Config, dtype: str = 'float16') -> Config:
    """A copy of ``cfg`` as ``tools/train.py --amp`` runs it
    (``AmpOptimWrapper``; float16 unless ``dtype`` says otherwise)."""
    cfg = copy.deepcopy(cfg)
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    cfg.optim_wrapper.dtype = dtype
    return cfg


#: (row label, MemoryPlan field) in display order.
ROWS = (('parameters', 'params'), ('buffers', 'buffers'),
        ('gradients', 'grads'), ('optimizer state', 'optimizer'),
        ('EMA copy', 'ema'), ('DDP buckets / FSDP gathered', 'comm'),
        ('saved activations', 'activations'),
        ('with_cp recompute (largest block)', 'recompute'))


def gib(nbytes: int) -> str:
    return f'{nbytes / GIB:.2f}'


def plan_text(plan: MemoryPlan) -> str:
    """The plan as a short terminal table (GiB) with its verdict."""
    height, width = plan.image_size
    lines = [f'{plan.config}',
             f'  batch {plan.batch} per GPU at {height}x{width}, '
             f'{plan.gpus} GPU(s), {plan.strategy}, '
             f'AMP {plan.amp or "off (fp32)"}, '
             f'with_cp {"on" if plan.with_cp else "off"}']
    for label, field in ROWS:
        lines.append(f'  {label:<36} {gib(getattr(plan, field)):>8} GiB')
    verdict = 'fits' if plan.fits else 'DOES NOT FIT'
    lines.append(f'  {"total":<36} {gib(plan.total):>8} GiB  -> {verdict} '
                 f'in {plan.gpu_mem_gib:g} GiB (keeping '
                 f'{1 - HEADROOM:.0%} free)')
    return '\n'.join(lines)
