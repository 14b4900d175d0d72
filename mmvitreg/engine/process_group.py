"""One lifecycle for the process group of every multi-process entry point.

Opening: mmengine 0.10.7's ``init_dist('pytorch')`` always calls
``torch.cuda.set_device`` before ``init_process_group``, which fails on a
machine without a GPU. Without a GPU we open the default group with the
gloo backend from torchrun's environment ourselves; the Runner then sees an
initialised group (``is_distributed()``) and skips its own ``init_dist``.
A ``Runner`` (not a ``FlexibleRunner``, whose strategy wraps the model)
gets :class:`CPUDistributedDataParallel`: mmengine's DDP wrapper minus the
``device_ids=[LOCAL_RANK]`` that DDP refuses for CPU modules. With a GPU
nothing here opens a group: mmengine does.

Closing, the reason this module exists. gloo's worker threads
(``pt_gloo_runloop``) and its transport loop (``gloo_tcp_loop``) are
joined only in the C++ destructor of ``ProcessGroupGloo``;
``destroy_process_group`` unregisters the group but gloo has no
``shutdown``, and the DDP/FSDP wrapper inside the Runner (a reference
cycle) keeps the group, so its threads outlive ``main()``. They then run
while the interpreter finalizes; a thread that needs the GIL then (for
example to drop the last reference to a tensor of a finished collective)
is ended by CPython with ``pthread_exit``, whose forced unwind through a
``noexcept`` C++ frame calls ``std::terminate``: "terminate called without
an active exception", SIGABRT, exit -6 after a finished run. Whether a
worker thread is still busy at that moment is timing, so it showed only
under load. :func:`process_group` therefore destroys the group, drops the
caller's objects (the traceback's frames too, on failure) and collects
them while the interpreter is whole, so the destructor joins the threads
in the main thread, then checks on Linux that no gloo thread is left.
"""
import gc
import os
import sys
import traceback
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator, List

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

#: Thread names (``/proc/self/task/*/comm``) of a live ProcessGroupGloo.
GLOO_THREADS = ('pt_gloo_runloop', 'gloo_tcp_loop')


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for modules on the CPU (gloo)."""

    def __init__(self, module, device_ids=None, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        super().__init__(module=module,
                         device_ids=None if on_cpu else device_ids, **kwargs)


def _check_torchrun_env() -> None:
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the torchrun environment; missing '
            f'{", ".join(missing)}. Start with tools/dist_train.sh or '
            'torchrun.')


def _flexible(cfg: Config) -> bool:
    """Whether ``runner_type`` (a registry name or a class) is a
    ``FlexibleRunner``, whose strategy wraps the model itself."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import FlexibleRunner
    kind = cfg.get('runner_type', 'Runner')
    kind = RUNNERS.get(kind) if isinstance(kind, str) else kind
    return isinstance(kind, type) and issubclass(kind, FlexibleRunner)


def init_cpu_process_group(cfg: Config, launcher: str) -> bool:
    """Open a gloo process group for ``launcher='pytorch'`` without CUDA.

    Sets ``env_cfg.dist_cfg.backend='gloo'`` and, for a plain ``Runner``,
    the CPU DDP wrapper. Returns whether a group was opened here.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    if torch_dist.is_initialized():
        return False
    _check_torchrun_env()
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = {}
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = {}
    dist_cfg = cfg.env_cfg.dist_cfg
    dist_cfg['backend'] = 'gloo'
    timeout = dist_cfg.get('timeout')
    kwargs = {} if timeout is None else dict(
        timeout=timedelta(seconds=timeout))
    torch_dist.init_process_group(backend='gloo', **kwargs)
    if not _flexible(cfg) and cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='CPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return True


def gloo_threads() -> List[str]:
    """Names of this process's live gloo threads ([] where ``/proc`` is
    absent, i.e. not Linux)."""
    names = []
    task_dir = '/proc/self/task'
    if not os.path.isdir(task_dir):
        return names
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, 'comm')) as f:
                name = f.read().strip()
        except OSError:  # the thread ended while we looked
            continue
        if name in GLOO_THREADS:
            names.append(name)
    return names


def close_process_group(success: bool = True) -> List[str]:
    """Destroy the default group (after a barrier when every rank
    succeeded), collect what held it and return the gloo threads still
    alive (``[]`` when the destructor joined them all)."""
    if torch_dist.is_initialized():
        if success:
            torch_dist.barrier()
        torch_dist.destroy_process_group()
    gc.collect()
    return gloo_threads()


def _exit_without_finalizing(code: int, left: List[str]) -> None:
    """Last resort when something outside our frames still holds the group:
    end the process before the interpreter finalizes (no thread can then
    be ended mid-call), after flushing what the run printed."""
    import logging
    print(f'process group still referenced after the run ({len(left)} gloo '
          'threads alive); exiting without interpreter finalization',
          file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextmanager
def process_group(cfg: Config, launcher: str,
                  open_cuda: bool = False) -> Iterator[bool]:
    """Open (:func:`init_cpu_process_group`) and reliably close the group.

    Run the work in a function called inside the ``with`` block, so that
    its Runner is garbage when the block ends::

        with process_group(cfg, args.launcher):
            train(cfg)

    On exit the group is destroyed, the frames of a failure's traceback are
    cleared (they hold the Runner) and everything is collected before the
    interpreter finalizes. Yields whether the group was opened here; a
    group opened elsewhere (GPU: the Runner's ``init_dist``) is closed the
    same way. ``open_cuda``: with a GPU, open it here through mmengine's
    ``init_dist`` (for work without a Runner, such as token labels).
    """
    opened = init_cpu_process_group(cfg, launcher)
    if (open_cuda and launcher == 'pytorch' and not opened
            and not torch_dist.is_initialized()):
        from mmengine.dist import init_dist
        init_dist('pytorch')
        opened = True
    try:
        yield opened
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)
        close_process_group(success=False)
        raise
    left = close_process_group(success=True)
    if left:
        _exit_without_finalizing(0, left)
