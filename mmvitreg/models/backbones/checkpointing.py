"""Activation checkpointing of one transformer block (``with_cp``)."""
from typing import Callable

import torch
from torch.utils.checkpoint import checkpoint


def block_forward(forward: Callable[[torch.Tensor], torch.Tensor],
                  x: torch.Tensor, with_cp: bool) -> torch.Tensor:
    """``forward(x)``, recomputed in backward instead of storing its
    activations when ``with_cp`` and gradients are needed.

    Only the block's input is kept; its intermediate activations (attention
    and FFN) are recomputed during backward, trading about one extra
    forward per step for their memory. Non-reentrant checkpointing (the
    variant torch recommends): RNG states (stochastic depth, dropout) and
    the autocast state are replayed, so loss and gradients equal the plain
    block's; forward hooks on the block itself run once.
    """
    if with_cp and x.requires_grad and torch.is_grad_enabled():
        return checkpoint(forward, x, use_reentrant=False)
    return forward(x)
