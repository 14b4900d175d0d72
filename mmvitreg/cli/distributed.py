"""CPU multi-process runs under ``torchrun`` (gloo) through mmengine.

mmengine 0.10.7's ``init_dist('pytorch')`` always calls
``torch.cuda.set_device`` before ``init_process_group``, which fails on a
machine without a GPU. When no GPU is present we open the default process
group with the gloo backend from torchrun's environment ourselves; the
Runner then sees an initialised group (``is_distributed()``), skips its own
``init_dist`` and wraps the model in mmengine's ``MMDistributedDataParallel``
through :class:`CPUDistributedDataParallel`, which only drops the
``device_ids=[LOCAL_RANK]`` that mmengine always passes (DDP refuses device
ids for CPU modules). On GPU machines nothing here runs: mmengine does
everything.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for modules on the CPU (gloo)."""

    def __init__(self, module, device_ids=None, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        super().__init__(module=module,
                         device_ids=None if on_cpu else device_ids, **kwargs)


def init_cpu_process_group(cfg: Config, launcher: str) -> bool:
    """Open a gloo process group for ``launcher='pytorch'`` without CUDA.

    Returns:
        bool: whether a group was opened here.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    if torch_dist.is_initialized():
        return False
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the torchrun environment; missing '
            f'{", ".join(missing)}. Start with tools/dist_train.sh or '
            'torchrun.')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    timeout = dist_cfg.get('timeout')
    kwargs = {}
    if timeout is not None:
        from datetime import timedelta
        kwargs['timeout'] = timedelta(seconds=timeout)
    torch_dist.init_process_group(backend='gloo', **kwargs)
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='CPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return True


def close_cpu_process_group(opened: bool) -> None:
    """Destroy the gloo group :func:`init_cpu_process_group` opened, after
    a successful run. Left to interpreter exit, gloo's threads sometimes
    abort the process (``terminate called without an active exception``,
    exit -6) after all work is done, failing an otherwise good run."""
    if opened and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
