"""mmengine's ``FSDPStrategy`` with the optimizer the recipe asked for.

mmengine 0.10.7's ``FSDPStrategy`` builds the optimizer *after* wrapping
the model in FSDP. With ``use_orig_params=True`` every parameter is then a
1-D slice of its rank's shard, so a ``paramwise_cfg`` that reads shapes
sees only 1-D parameters: the suite's recipes (``flat_decay_mult=0.``,
no weight decay on biases, norms and LayerScale) silently lose weight
decay on *every* parameter. And optimizers or clipping that take norms of
a parameter or of all gradients compute them on the local slice.

:class:`RecipeFSDPStrategy` owns the order in which the model and its
optimizer are prepared (its :meth:`~RecipeFSDPStrategy.prepare` is
mmengine's public ``prepare`` with the steps written out, so no step relies
on the call order of mmengine's private helpers):

1. the optimizer wrapper is built from the config on the model *before*
   wrapping (FSDP with ``use_orig_params=True``, which is required, keeps
   the same ``nn.Parameter`` objects and only swaps their data for the
   local slices, so the param groups stay valid and see the real shapes
   and names);
2. ``clip_grad=dict(type='norm')`` clips with the root FSDP module's
   ``clip_grad_norm_`` (norm over all ranks' slices) instead of
   ``torch.nn.utils.clip_grad_norm_`` (local slices);
3. an optimizer whose step takes per-parameter or global norms on the
   local slice (mmpretrain's ``Lamb`` and ``LARS``) is refused with the
   key to change: ``ShardedLamb`` (:mod:`..optimizers.sharded_lamb`) is
   LAMB with norms over all ranks;
4. an EMA of one rank's slices is refused, whichever runner runs the
   strategy: mmengine's and mmpretrain's ``EMAHook`` deep-copy
   ``runner.model.module`` in ``before_run``, and a deep copy of the
   sharded model raises naming the fix (``ShardedEMAHook``, the EMA of all
   ranks' slices) where torch would fail with ``cannot pickle 'module'
   object``; an EMA made another way is refused when a checkpoint holding
   it is about to be written.

It also fixes resuming on this torch: mmengine 0.10.7 calls
``FSDP.optim_state_dict_to_load(state_dict, model, optimizer)``, the
argument order of torch < 2.0 (torch 2.14 takes ``model, optim,
optim_state_dict`` and fails with ``unhashable type: 'dict'``).

On a machine without an accelerator (the CPU/gloo test) FSDP needs an
explicit CPU device: ``device_id`` defaults to ``'cpu'`` there instead of
mmengine's ``LOCAL_RANK``. ``offload_to_cpu=True`` (the state dicts
gathered into CPU memory) is honoured on every machine, but on a CPU-only
one it is met without torch's flag, which the strategy then clears and
logs: the gathered tensors are on the CPU already, and with the flag torch
2.14 returns *views of FSDP's reused buffers* instead of copies (its
``FSDP.optim_state_dict`` gave a parameter's ``exp_avg`` and ``exp_avg_sq``
one shared buffer, so the checkpoint silently lost the first moments:
found by the bit-exact resume test). On GPUs the offload copies and the
flag is passed through unchanged.

Checkpoints: the suite's FSDP configs save the *full* state dict on rank 0
(``state_dict_cfg='full'``), so an FSDP checkpoint has the same keys and
shapes as any other run's and feeds ``tools/test.py``, the similarity tool
and the segmentation configs unchanged.
"""
import copy
from functools import partial
from typing import Dict, Optional, Tuple

import torch
from mmengine._strategy import FSDPStrategy
from mmengine._strategy.fsdp import FSDP
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, BaseOptimWrapper
from mmengine.optim import build_optim_wrapper as build_from_cfg
from mmengine.registry import STRATEGIES
from torch import nn

#: The mmengine 0.10.7 code :meth:`RecipeFSDPStrategy.prepare` follows
#: step by step (``'module:qualname': (sha256[:16] of inspect.getsource,
#: what to re-check)``; tests/compat/test_upstream_drift.py).
UPSTREAM_SOURCES = {
    'mmengine._strategy.single_device:SingleDeviceStrategy.prepare': (
        'be573a78e13a4371', 'RecipeFSDPStrategy.prepare (same steps, the '
        'optimizer built before _wrap_model)'),
}

#: optimizer type -> what to use instead under FSDP (None: no sharded one)
SHARD_LOCAL_OPTIMIZERS = {'Lamb': 'ShardedLamb', 'LARS': None}


def _clip_over_ranks(model: nn.Module, params, max_norm: float,
                     norm_type: float = 2.0, **kwargs) -> torch.Tensor:
    """``clip_grad_norm_`` with the norm of every rank's slices (the
    root FSDP module's); same signature as ``torch.nn.utils``'s."""
    return model.clip_grad_norm_(max_norm, norm_type)


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


#: Why an EMA of the sharded model is refused, and what to use instead.
EMA_REFUSAL = ("custom_hooks: type='EMAHook' under FSDP keeps and saves the "
               "EMA of one rank's parameter slices; use "
               "type='ShardedEMAHook' (same arguments).")


def _refuse_deepcopy(memo) -> None:
    raise ValueError(f'RecipeFSDPStrategy: a copy of the sharded model '
                     f'would hold this rank\'s slices: {EMA_REFUSAL}')


def builds_before_sharding(optim_wrapper) -> bool:
    """Whether the optimizer wrapper is a config with an optimizer config
    (the suite's configs): built on the unsharded model. A built wrapper or
    a dict of built wrappers goes through mmengine's FSDP path."""
    return isinstance(optim_wrapper, (dict, ConfigDict, Config)) and \
        isinstance(optim_wrapper.get('optimizer'), dict)


def sliced_keys(checkpoint: dict,
                full_shapes: Dict[str, Tuple[int, ...]]) -> list:
    """Keys of ``ema_state_dict`` (``module.<name>``) or of the EMA values
    swapped into ``state_dict`` whose shapes are not the model's full
    shapes: an EMA of one rank's FSDP slices."""
    ema = checkpoint.get('ema_state_dict') or {}
    model = checkpoint.get('state_dict') or {}
    bad = []
    for key, value in ema.items():
        name = key[len('module.'):] if key.startswith('module.') else None
        want = full_shapes.get(name)
        if want is None or not torch.is_tensor(value):
            continue
        swapped = model.get(name)
        if tuple(value.shape) != want or (torch.is_tensor(swapped) and
                                          tuple(swapped.shape) != want):
            bad.append(key)
    return bad


@STRATEGIES.register_module()
class RecipeFSDPStrategy(FSDPStrategy):
    """``FSDPStrategy`` (same arguments) whose optimizer keeps the
    recipe's param groups and norms (see the module doc)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._full_shapes: Dict[str, Tuple[int, ...]] = {}
        if not torch.cuda.is_available():  # see the module doc
            self._offload_without_torch_flag()

    def _offload_without_torch_flag(self) -> None:
        """CPU only: clear torch's ``offload_to_cpu`` (the state is in CPU
        memory already; the flag returns views of reused buffers) and say
        so once."""
        cleared = []
        for name in ('state_dict_config', 'optim_state_dict_config'):
            config = copy.copy(getattr(self, name))
            if getattr(config, 'offload_to_cpu', False):
                config.offload_to_cpu = False
                cleared.append(
                    f'strategy.state_dict_cfg.{name}.offload_to_cpu')
            setattr(self, name, config)
        if cleared:
            print_log(
                f'RecipeFSDPStrategy: {" and ".join(cleared)}='
                'True is met without torch\'s flag on this CPU-only machine: '
                'the gathered state is in CPU memory already, and with the '
                'flag torch returns views of FSDP\'s reused buffers (a '
                'checkpoint with exp_avg == exp_avg_sq).', logger='current')

    def prepare(self,
                model,
                *,
                optim_wrapper=None,
                param_scheduler=None,
                compile=False,
                dispatch_kwargs: Optional[dict] = None):
        """mmengine's ``prepare`` with our order: build and initialise the
        model, **build the optimizer on the unsharded model**, wrap it in
        FSDP, point norm clipping at all ranks, then mmengine's lr scaling,
        accumulation set-up and schedulers."""
        if self._prepared:
            return self._prepared_components()
        if dispatch_kwargs is not None:
            self.dispatch_kwargs.update(dispatch_kwargs)
        model = self.build_model(model)
        model = self._init_model_weights(model)
        unsharded = None
        if builds_before_sharding(optim_wrapper):
            unsharded = self.build_unsharded_optim_wrapper(
                optim_wrapper, model)
        self._full_shapes = {
            name: tuple(value.shape)
            for name, value in model.state_dict().items()
        }
        model = self._wrap_model(model)
        model = self.compile_model(model, compile=compile)
        self.model = model
        if optim_wrapper is not None:
            self.optim_wrapper = (
                self.clip_over_ranks(unsharded, model) if unsharded
                is not None else self.build_optim_wrapper(optim_wrapper,
                                                          model))
            self._scale_lr()
            counts = getattr(self.optim_wrapper, '_accumulative_counts', 1)
            if counts > 1:
                if 'max_iters' not in self.dispatch_kwargs:
                    raise ValueError(
                        '"max_iters" must be specified because '
                        '"accumulative_counts" was set as '
                        f'{counts} which is greater than 1.')
                self.optim_wrapper.initialize_count_status(
                    self.model, 0, self.dispatch_kwargs['max_iters'])
        if param_scheduler is not None:
            self.param_schedulers = self.build_param_scheduler(
                param_scheduler, self.optim_wrapper)
        self._prepared = True
        return self._prepared_components()

    def build_unsharded_optim_wrapper(self, optim_wrapper,
                                      model: nn.Module) -> BaseOptimWrapper:
        """The configured optim wrapper on the model before sharding (real
        shapes and names for ``paramwise_cfg``); refuses shard-local
        optimizers and a wrapper that would not keep the parameters."""
        check_shardable(optim_wrapper)
        wrapper_cfg = self.model_wrapper or {}
        if not wrapper_cfg.get('use_orig_params', False):
            raise ValueError(
                'strategy.model_wrapper.use_orig_params must be True for '
                'RecipeFSDPStrategy: the optimizer is built on the unsharded '
                'parameters, and FSDP keeps those nn.Parameter objects only '
                'with use_orig_params=True (otherwise it would step tensors '
                'the model no longer uses).')
        cfg = copy.deepcopy(optim_wrapper)
        if cfg.get('type', 'OptimWrapper') in ('AmpOptimWrapper',
                                               AmpOptimWrapper):
            cfg.setdefault('use_fsdp', True)  # ShardedGradScaler
        return build_from_cfg(model, cfg)

    @staticmethod
    def clip_over_ranks(optim_wrapper: BaseOptimWrapper,
                        model: nn.Module) -> BaseOptimWrapper:
        """Norm clipping of ``optim_wrapper`` over all ranks' slices (the
        wrapped ``model``'s ``clip_grad_norm_``)."""
        if getattr(optim_wrapper, 'clip_func', None) is \
                torch.nn.utils.clip_grad_norm_:
            optim_wrapper.clip_func = partial(_clip_over_ranks, model)
        return optim_wrapper

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        """mmengine's wrapping, on the CPU with ``device_id='cpu'``; the
        model FSDP wraps (``runner.model.module``) refuses deep copies."""
        model.__deepcopy__ = _refuse_deepcopy
        if not torch.cuda.is_available():
            wrapper = dict(self.model_wrapper or
                           dict(type='MMFullyShardedDataParallel'))
            wrapper.setdefault('device_id', torch.device('cpu'))
            self.model_wrapper = wrapper
        return super()._wrap_model(model)

    def save_checkpoint(self, filename: str, *, callback=None, **kwargs):
        """mmengine's, refusing an EMA of one rank's slices (whichever
        runner and hook made it) before anything is written."""
        def checked(checkpoint: dict) -> None:
            try:
                if callback is not None:
                    callback(checkpoint)
            finally:  # mmengine's EMAHook fails its swap on ranks > 0
                bad = sliced_keys(checkpoint, self._full_shapes)
                if bad:
                    raise ValueError(
                        f'RecipeFSDPStrategy: {len(bad)} EMA tensors are '
                        f'one rank\'s slices (e.g. {bad[0]}): {EMA_REFUSAL}')

        return super().save_checkpoint(filename, callback=checked, **kwargs)

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
