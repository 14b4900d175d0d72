"""Bytes an optimizer keeps per parameter, by optimizer type.

Counted from the optimizers' ``step`` code, not measured:

* ``AdamW`` / ``Adam`` (torch): ``exp_avg`` and ``exp_avg_sq`` like the
  parameter, plus ``step``, a 0-dim float32 tensor per parameter;
* ``SGD`` (torch): one ``momentum_buffer`` like the parameter when
  ``momentum`` is non-zero, nothing otherwise;
* ``Lamb`` (mmpretrain) and ``ShardedLamb`` (mmvitreg): ``exp_avg`` and
  ``exp_avg_sq``; their step count lives in the param group (a Python int).

The test builds each optimizer, takes a step and sums its state tensors.
"""
from typing import Dict, Iterable, Tuple

import torch

#: type -> (copies of each parameter, bytes of extra per-parameter state)
STATE_LAYOUT: Dict[str, Tuple[int, int]] = {
    'AdamW': (2, 4),
    'Adam': (2, 4),
    'Lamb': (2, 0),
    'ShardedLamb': (2, 0),
}


def state_layout(optimizer_cfg: dict) -> Tuple[int, int]:
    """(copies per parameter, extra bytes per parameter tensor) of the
    optimizer ``optimizer_cfg`` (``optim_wrapper.optimizer``) builds."""
    kind = str(optimizer_cfg.get('type'))
    if kind == 'SGD':
        return (1 if optimizer_cfg.get('momentum', 0) else 0), 0
    if kind not in STATE_LAYOUT:
        raise ValueError(
            f'optim_wrapper.optimizer.type={kind!r}: no state layout known '
            f'for it (known: SGD, {", ".join(sorted(STATE_LAYOUT))}); add '
            'it to mmvitreg/analysis/optimizer_states.py')
    return STATE_LAYOUT[kind]


def optimizer_state_bytes(optimizer_cfg: dict,
                          params: Iterable[torch.Tensor]) -> int:
    """Bytes of the optimizer state for the trainable ``params``."""
    copies, extra = state_layout(optimizer_cfg)
    total = 0
    for p in params:
        if p.requires_grad:
            total += copies * p.numel() * p.element_size() + extra
    return total
