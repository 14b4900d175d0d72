"""mmengine's ``FSDPStrategy`` with the optimizer the recipe asked for.

mmengine 0.10.7's ``FSDPStrategy`` builds the optimizer *after* wrapping
the model in FSDP. With ``use_orig_params=True`` every parameter is then a
1-D slice of its rank's shard, so a ``paramwise_cfg`` that reads shapes
sees only 1-D parameters: the suite's recipes (``flat_decay_mult=0.``,
no weight decay on biases, norms and LayerScale) silently lose weight
decay on *every* parameter. And optimizers or clipping that take norms of
a parameter or of all gradients compute them on the local slice.

:class:`RecipeFSDPStrategy` changes three things and nothing else:

1. the optimizer wrapper is built from the config on the model *before*
   wrapping (FSDP keeps the same ``nn.Parameter`` objects and only swaps
   their data for the local slices, so the param groups stay valid and
   see the real shapes and names);
2. ``clip_grad=dict(type='norm')`` clips with the root FSDP module's
   ``clip_grad_norm_`` (norm over all ranks' slices) instead of
   ``torch.nn.utils.clip_grad_norm_`` (local slices);
3. an optimizer whose step takes per-parameter or global norms on the
   local slice (mmpretrain's ``Lamb`` and ``LARS``) is refused with the
   key to change: ``ShardedLamb`` (:mod:`..optimizers.sharded_lamb`) is
   LAMB with norms over all ranks.

It also fixes resuming on this torch: mmengine 0.10.7 calls
``FSDP.optim_state_dict_to_load(state_dict, model, optimizer)``, the
argument order of torch < 2.0 (torch 2.14 takes ``model, optim,
optim_state_dict`` and fails with ``unhashable type: 'dict'``).

On a machine without an accelerator (the CPU/gloo test) FSDP needs an
explicit CPU device: ``device_id`` defaults to ``'cpu'`` there instead of
mmengine's ``LOCAL_RANK``. And ``offload_to_cpu`` is turned off there:
with it, torch 2.14's ``FSDP.optim_state_dict`` returns the gathered
``exp_avg`` and ``exp_avg_sq`` of a parameter in *one shared buffer*
(both hold ``exp_avg_sq``) when the shards already live on the CPU, so the
checkpoint silently loses the first moments (found by the bit-exact resume
test; on GPUs the offload copies and the moments are distinct).

Checkpoints: the suite's FSDP configs save the *full* state dict on rank 0
(``state_dict_cfg='full'``), so an FSDP checkpoint has the same keys and
shapes as any other run's and feeds ``tools/test.py``, the similarity tool
and the segmentation configs unchanged.
"""
import copy
from functools import partial
from typing import Optional

import torch
from mmengine._strategy import FSDPStrategy
from mmengine._strategy.fsdp import FSDP
from mmengine.config import Config, ConfigDict
from mmengine.optim import AmpOptimWrapper, build_optim_wrapper
from mmengine.registry import STRATEGIES
from torch import nn

#: optimizer type -> what to use instead under FSDP (None: no sharded one)
SHARD_LOCAL_OPTIMIZERS = {'Lamb': 'ShardedLamb', 'LARS': None}


def _clip_over_ranks(model: nn.Module, params, max_norm: float,
                     norm_type: float = 2.0, **kwargs) -> torch.Tensor:
    """``clip_grad_norm_`` with the norm of every rank's slices (the
    root FSDP module's); same signature as ``torch.nn.utils``'s."""
    return model.clip_grad_norm_(max_norm, norm_type)


def is_fsdp(model: nn.Module) -> bool:
    """Whether ``model`` is (wrapped in) FSDP: its parameters are each
    rank's slices, so norms and copies of them need the whole picture."""
    return isinstance(model, FSDP)


def check_shardable(optim_wrapper: dict) -> None:
    """Refuse an optimizer whose norms would be shard-local, naming the
    config key and the replacement."""
    optimizer = optim_wrapper.get('optimizer') or {}
    name = optimizer.get('type') if isinstance(optimizer, dict) else None
    name = name if isinstance(name, str) else getattr(name, '__name__', None)
    if name is None or name.split('.')[-1] not in SHARD_LOCAL_OPTIMIZERS:
        return
    short = name.split('.')[-1]
    instead = SHARD_LOCAL_OPTIMIZERS[short]
    hint = (f"set optim_wrapper.optimizer.type='{instead}' (same arguments, "
            'norms over all ranks)' if instead else
            'use an element-wise optimizer (AdamW, SGD) or DDP')
    raise ValueError(
        f"optim_wrapper.optimizer.type='{name}' takes norms of each "
        'parameter on the local FSDP shard, which changes the update with '
        f'the number of ranks: {hint}.')


@STRATEGIES.register_module()
class RecipeFSDPStrategy(FSDPStrategy):
    """``FSDPStrategy`` (same arguments) whose optimizer keeps the
    recipe's param groups and norms (see the module doc)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not torch.cuda.is_available():  # see the module doc
            for name in ('state_dict_config', 'optim_state_dict_config'):
                config = copy.copy(getattr(self, name))
                if getattr(config, 'offload_to_cpu', False):
                    config.offload_to_cpu = False
                setattr(self, name, config)

    def prepare(self, model, *, optim_wrapper=None, **kwargs):
        self._optim_cfg = optim_wrapper
        self._prebuilt = None
        return super().prepare(model, optim_wrapper=optim_wrapper, **kwargs)

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        cfg = getattr(self, '_optim_cfg', None)
        if isinstance(cfg, (dict, ConfigDict, Config)) and isinstance(
                cfg.get('optimizer'), dict):
            check_shardable(cfg)
            cfg = copy.deepcopy(cfg)
            if cfg.get('type', 'OptimWrapper') in ('AmpOptimWrapper',
                                                   AmpOptimWrapper):
                cfg.setdefault('use_fsdp', True)  # ShardedGradScaler
            self._prebuilt = build_optim_wrapper(model, cfg)
        if not torch.cuda.is_available():
            wrapper = dict(self.model_wrapper or
                           dict(type='MMFullyShardedDataParallel'))
            wrapper.setdefault('device_id', torch.device('cpu'))
            self.model_wrapper = wrapper
        return super()._wrap_model(model)

    def build_optim_wrapper(self, optim_wrapper, model: Optional[nn.Module]
                            = None):
        prebuilt, self._prebuilt = getattr(self, '_prebuilt', None), None
        if prebuilt is None:
            return super().build_optim_wrapper(optim_wrapper, model)
        if getattr(prebuilt, 'clip_func', None) is \
                torch.nn.utils.clip_grad_norm_:
            prebuilt.clip_func = partial(_clip_over_ranks, model)
        return prebuilt

    def optim_state_dict(self) -> dict:
        """The optimizer's state as the configured state-dict type (full:
        gathered to rank 0, keyed by parameter name), with the optim
        wrapper's ``base_param_settings`` (the logged ``base_lr``) as
        ``OptimWrapper.state_dict`` has it."""
        state = FSDP.optim_state_dict(self.model, self.optim_wrapper.optimizer)
        base = getattr(self.optim_wrapper, 'base_param_settings', None)
        if base is not None:
            state['base_param_settings'] = base
        return state

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Load :meth:`optim_state_dict`'s output (torch 2.x argument
        order)."""
        base = state_dict.pop('base_param_settings', None)
        sharded = FSDP.optim_state_dict_to_load(
            model=self.model, optim=self.optim_wrapper.optimizer,
            optim_state_dict=state_dict)
        if base is not None:
            sharded['base_param_settings'] = base
        self.optim_wrapper.load_state_dict(sharded)
