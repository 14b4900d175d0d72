"""The "estimated memory per GPU" table of docs/recipes.md.

One row per full config: per-GPU batch and image size, GPUs and strategy,
``with_cp``, the estimated peak per GPU as configured (fp32 unless the
config sets ``AmpOptimWrapper``) and as ``tools/train.py --amp`` runs it,
and whether each fits in 80 GiB (:mod:`.memory_plan`). Computing it runs
two fake forward passes per config (minutes on 2 cores), so
``recipes_doc`` takes the section as text and the doc test reuses the
committed one; ``tests/analysis/test_memory_plan.py`` recomputes rows.
"""
from typing import List, Optional, Sequence

from mmengine.config import Config

from .memory_plan import (
    GIB,
    MemoryPlan,
    estimate,
    preprocessed_batch,
    with_amp,
)
from .train_batch import batch_size

HEADING = '## Estimated memory per GPU'
GPU_MEM_GIB = 80.0
INTRO = (
    'Estimated by `python tools/analysis/estimate_memory.py CONFIG` '
    '(mmvitreg/analysis/memory_plan.py) without a GPU: parameters, '
    'gradients, optimizer state, EMA copy, DDP buckets or FSDP\'s gathered '
    'blocks, and the activations autograd saves at the per-GPU batch '
    '(fake CUDA tensors, fused attention, the config\'s `with_cp`), on the '
    'recipe\'s number of GPUs. "fits" keeps 10% of 80 GiB free for the '
    'CUDA context, workspaces and fragmentation. Not yet compared with a '
    'measured peak on a GPU (`benchmarks/gpu_acceptance.py` does that).')
HEADER = ('| config | batch per GPU x image | GPUs, strategy | with_cp | '
          'estimated memory per GPU (as configured) | with `--amp` | '
          'fits 80 GiB |')


def _cell(plan: MemoryPlan) -> str:
    return f'{plan.total / GIB:.1f} GiB' + (
        f' ({plan.amp})' if plan.amp else ' (fp32)')


def memory_row(name: str, cfg: Config) -> str:
    """The table row of config ``name`` (two estimates)."""
    data = preprocessed_batch(cfg, batch_size(cfg))
    plan = estimate(cfg, gpu_mem_gib=GPU_MEM_GIB, data=data)
    amp = plan if plan.amp else estimate(
        with_amp(cfg), gpu_mem_gib=GPU_MEM_GIB, data=data)
    height, width = plan.image_size
    fits = '/'.join('yes' if p.fits else '**no**' for p in (plan, amp))
    return (f'| `{name}` | {plan.batch} x {height}x{width} | '
            f'{plan.gpus}, {plan.strategy} | '
            f'{"on" if plan.with_cp else "off"} | {_cell(plan)} | '
            f'{_cell(amp)} | {fits} |')


def memory_section(rows: Sequence[str]) -> str:
    """The section (heading, intro, table) from rendered rows."""
    return '\n'.join([HEADING, '', INTRO, '', HEADER,
                      '|---|---|---|---|---|---|---|', *rows, ''])


def committed_section(doc: str) -> Optional[str]:
    """The memory section of a rendered docs/recipes.md (None: none)."""
    start = doc.find(HEADING)
    if start < 0:
        return None
    end = doc.find('\n### ', start)
    return doc[start:end] if end >= 0 else doc[start:]


def table_rows(section: str) -> List[str]:
    """The config rows of a memory section."""
    return [line for line in section.splitlines()
            if line.startswith('| `')]
