"""What a CUDA training step runs, reproduced for fake CUDA tensors on a
machine without a GPU.

Two things differ from a plain fake-tensor run when no GPU is present:

* ``torch.autocast('cuda')`` switches itself off when CUDA is unavailable,
  so :func:`fake_cuda_autocast` sets the autocast state directly (the
  calls ``torch.autocast.__enter__`` makes);
* ``F.scaled_dot_product_attention`` asks the device which fused kernel it
  supports; without one it falls back to the math path, which saves the
  ``(B, heads, N, N)`` attention matrix for backward. On a GPU of
  compute capability >= 8.0 the flash kernel (fp16/bf16) or the
  memory-efficient kernel (fp32) runs instead and saves only q, k, v, the
  output and the log-sum-exp. :func:`fused_attention` calls those
  kernels' ops, whose fake implementations give the same saved tensors.

:func:`cuda_attention` installs ``fused_attention`` where the suite's
backbones look attention up (``torch.nn.functional`` and mmpretrain's
attention module, which binds it at import).
"""
import contextlib
from typing import Iterator, Optional

import torch
import torch.nn.functional as F


@contextlib.contextmanager
def fake_cuda_autocast(dtype: Optional[torch.dtype]) -> Iterator[None]:
    """``torch.autocast('cuda', dtype)`` that stays on without a GPU
    (``dtype=None``: no autocast)."""
    if dtype is None:
        yield
        return
    prev = (torch.is_autocast_enabled('cuda'),
            torch.get_autocast_dtype('cuda'))
    torch.set_autocast_enabled('cuda', True)
    torch.set_autocast_dtype('cuda', dtype)
    torch.autocast_increment_nesting()
    try:
        yield
    finally:
        if torch.autocast_decrement_nesting() == 0:
            torch.clear_autocast_cache()
        torch.set_autocast_enabled('cuda', prev[0])
        torch.set_autocast_dtype('cuda', prev[1])


def fused_attention(query: torch.Tensor, key: torch.Tensor,
                    value: torch.Tensor,
                    attn_mask: Optional[torch.Tensor] = None,
                    dropout_p: float = 0.0, is_causal: bool = False,
                    scale: Optional[float] = None, **kwargs) -> torch.Tensor:
    """``F.scaled_dot_product_attention`` through the fused kernel a
    Hopper/Ampere GPU would pick: flash for fp16/bf16 without a mask and
    head dim <= 256, memory-efficient otherwise."""
    if torch.is_autocast_enabled('cuda'):
        dtype = torch.get_autocast_dtype('cuda')
        query, key, value = (t.to(dtype) for t in (query, key, value))
    low = query.dtype in (torch.float16, torch.bfloat16)
    if low and attn_mask is None and query.size(-1) <= 256:
        return torch.ops.aten._scaled_dot_product_flash_attention(
            query, key, value, dropout_p, is_causal, scale=scale)[0]
    if attn_mask is not None:
        attn_mask = attn_mask.to(query.dtype)
    return torch.ops.aten._scaled_dot_product_efficient_attention(
        query, key, value, attn_mask, True, dropout_p, is_causal,
        scale=scale)[0]


@contextlib.contextmanager
def cuda_attention() -> Iterator[None]:
    """Models built inside use :func:`fused_attention` (restored after)."""
    from mmpretrain.models.utils import attention as mmpretrain_attention
    saved = (F.scaled_dot_product_attention,
             mmpretrain_attention.scaled_dot_product_attention)
    F.scaled_dot_product_attention = fused_attention
    mmpretrain_attention.scaled_dot_product_attention = fused_attention
    try:
        yield
    finally:
        F.scaled_dot_product_attention = saved[0]
        mmpretrain_attention.scaled_dot_product_attention = saved[1]
