"""Whether a run is sharded with FSDP: the one check used by the hooks (on
the wrapped model), the FSDP strategy's callers (on a strategy), the
tools' runner code and the memory plan (on a config).

Under FSDP every parameter a rank holds is a slice of its shard, so code
that takes norms of parameters or copies them (the divergence guard's
gradient norm, an EMA) needs all ranks' slices, and a config that runs
FSDP is evaluated differently (``tools/test.py`` unshards it).
"""
from typing import Union

from mmengine._strategy import BaseStrategy, FSDPStrategy
from mmengine.config import Config
from mmengine.registry import RUNNERS, STRATEGIES
from mmengine.runner import FlexibleRunner
from torch import nn
from torch.distributed.fsdp import FullyShardedDataParallel


def _resolve(registry, kind) -> type:
    """A registry ``type`` (name or class) as a class; None if unknown."""
    if isinstance(kind, str):
        return registry.get(kind)
    return kind if isinstance(kind, type) else None


def _fsdp_config(cfg: Union[Config, dict]) -> bool:
    """A config runs FSDP when its runner is a ``FlexibleRunner`` (mmengine's
    ``Runner`` ignores ``strategy``) and its strategy an ``FSDPStrategy``
    (``RecipeFSDPStrategy`` included)."""
    runner = _resolve(RUNNERS, cfg.get('runner_type', 'Runner'))
    strategy = cfg.get('strategy') or {}
    strategy = _resolve(STRATEGIES, strategy.get('type')) if isinstance(
        strategy, dict) else type(strategy)
    return (isinstance(runner, type) and issubclass(runner, FlexibleRunner)
            and isinstance(strategy, type)
            and issubclass(strategy, FSDPStrategy))


def is_fsdp(obj: Union[nn.Module, BaseStrategy, Config, dict]) -> bool:
    """Whether ``obj`` runs under FSDP.

    Args:
        obj: a model (``runner.model``: wrapped in FSDP, whose parameters
            are each rank's slices), a strategy (an ``FSDPStrategy``) or a
            config (``runner_type`` a ``FlexibleRunner`` and ``strategy``
            an ``FSDPStrategy``).
    """
    if isinstance(obj, nn.Module):
        return isinstance(obj, FullyShardedDataParallel)
    if isinstance(obj, BaseStrategy):
        return isinstance(obj, FSDPStrategy)
    if isinstance(obj, (Config, dict)):
        return _fsdp_config(obj)
    raise TypeError('is_fsdp takes a model, a strategy or a config, got '
                    f'{type(obj).__name__}')
