"""Bytes of the tensors autograd saves for backward: the activation memory
of a training step.

:class:`SavedTensorCounter` is a ``saved_tensors_hooks`` pair that records
each saved tensor's *storage* once (views of one buffer share it) and
leaves the model's parameters out, exactly as
``benchmarks/patch_diversity_step.saved_activation_bytes`` counts on real
tensors. It keys storages by ``StorageWeakRef`` instead of ``data_ptr`` so
that it also works on fake and meta tensors, whose pointers are all 0:
the memory plan (:mod:`.memory_plan`) runs the same counter under
``FakeTensorMode`` at the recipe's batch without allocating anything.

While a *block* module runs (``blocks``: the transformer blocks, the unit
that ``with_cp`` recomputes), the bytes are also credited to that block,
so the plan knows the largest block's recompute footprint.
"""
from typing import Dict, Iterable, Optional

import torch
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef


def _key(tensor: torch.Tensor) -> StorageWeakRef:
    return StorageWeakRef(tensor.untyped_storage())


class SavedTensorCounter:
    """Context manager: count the storages saved for backward inside it.

    Args:
        params: tensors never counted (the parameters: they are in memory
            whatever autograd saves).
        blocks: modules whose forward is credited separately
            (:attr:`per_block`), e.g. the transformer blocks.
    """

    def __init__(self, params: Iterable[torch.Tensor],
                 blocks: Iterable[nn.Module] = ()) -> None:
        self._params = {_key(p) for p in params}
        self._blocks = list(blocks)
        self._seen: Dict[StorageWeakRef, int] = {}
        self._owner: Dict[StorageWeakRef, int] = {}
        self._active: list = []
        self._handles: list = []
        self._hooks: Optional[torch.autograd.graph.saved_tensors_hooks] = None

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        key = _key(tensor)
        if key not in self._params and key not in self._seen:
            self._seen[key] = tensor.untyped_storage().nbytes()
            if self._active:
                self._owner[key] = self._active[-1]
        return tensor

    def _enter_block(self, index: int):
        def hook(module, args):
            self._active.append(index)
        return hook

    def _leave_block(self, module, args, output):
        self._active.pop()

    def __enter__(self) -> 'SavedTensorCounter':
        for i, block in enumerate(self._blocks):
            self._handles.append(
                block.register_forward_pre_hook(self._enter_block(i)))
            self._handles.append(
                block.register_forward_hook(self._leave_block))
        self._hooks = torch.autograd.graph.saved_tensors_hooks(
            self._pack, lambda t: t)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    @property
    def total(self) -> int:
        """Bytes of every distinct saved storage."""
        return sum(self._seen.values())

    @property
    def per_block(self) -> Dict[int, int]:
        """Bytes first saved while block ``i`` ran, by block index."""
        out: Dict[int, int] = {}
        for key, owner in self._owner.items():
            out[owner] = out.get(owner, 0) + self._seen[key]
        return out
