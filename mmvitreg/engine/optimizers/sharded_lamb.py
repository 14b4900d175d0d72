"""LAMB whose norms are those of the whole parameters under FSDP.

LAMB (You et al. 2020; mmpretrain's ``Lamb``, timm's port of apex
FusedLAMB, the DeiT III recipe) takes three norms per step:

    g   <- g / max(1, ||g_all||_2 / max_grad_norm)        (global clipping)
    u_p  = m_hat_p / (sqrt(v_hat_p) + eps) + wd * w_p       (Adam + decay)
    w_p <- w_p - lr * (||w_p|| / ||u_p||) * u_p             (trust ratio)

``||g_all||`` over every gradient, ``||w_p||`` and ``||u_p||`` over one
parameter ``p``. Under FSDP (``use_orig_params=True``) each rank holds a
flat slice of each parameter (possibly empty), so mmpretrain's ``Lamb``
computes all three on the local slice: the clipping factor and every trust
ratio change with the number of ranks, and the run is no longer the
recipe's. ``ShardedLamb`` sums the local squares over the default process
group (one all-reduce for the gradient norm, one for all per-parameter
norms) and is otherwise the same arithmetic: without a process group, or
with one rank, its steps equal ``Lamb``'s.

Every rank must hold the same parameter groups in the same order (FSDP's
``use_orig_params=True`` keeps all original parameters on every rank,
with empty slices where a rank holds nothing).
"""
import math
from typing import List, Optional

import torch
import torch.distributed as dist
from mmengine.registry import OPTIMIZERS
from mmpretrain.engine.optimizers import Lamb


def _sum_over_ranks(local: torch.Tensor) -> torch.Tensor:
    """``local`` summed over the default process group (in place)."""
    if dist.is_available() and dist.is_initialized() and \
            dist.get_world_size() > 1:
        dist.all_reduce(local, op=dist.ReduceOp.SUM)
    return local


@OPTIMIZERS.register_module()
class ShardedLamb(Lamb):
    """mmpretrain's ``Lamb`` (same arguments) with the gradient norm and
    every trust-ratio norm taken over all ranks' slices (see module doc)."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = [p for group in self.param_groups for p in group['params']]
        device = params[0].device
        one = torch.tensor(1.0, device=device)

        # ||g_all||^2 = sum over ranks of the local slices' squares
        grad_sq = torch.zeros(1, device=device)
        for p in params:
            if p.grad is not None:
                if p.grad.is_sparse:
                    raise RuntimeError('ShardedLamb does not support sparse '
                                       'gradients.')
                grad_sq.add_(p.grad.pow(2).sum())
        grad_norm = _sum_over_ranks(grad_sq).sqrt()
        max_norm = torch.tensor(self.defaults['max_grad_norm'], device=device)
        clip = torch.where(grad_norm > max_norm, grad_norm / max_norm, one)

        # Adam updates on the local slices; squares of w and u per parameter
        updates: List[tuple] = []  # (param, update, group, index)
        norms_sq = torch.zeros(len(params), 2, device=device)
        index = 0
        for group in self.param_groups:
            self._advance_step(group)
            for p in group['params']:
                update = self._adam_update(p, group, clip)
                if update is not None:
                    norms_sq[index, 0] = p.pow(2).sum()
                    norms_sq[index, 1] = update.pow(2).sum()
                    updates.append((p, update, group, index))
                index += 1
        norms = _sum_over_ranks(norms_sq).sqrt()

        for p, update, group, index in updates:
            if group['weight_decay'] != 0 or group['always_adapt']:
                w_norm, u_norm = norms[index, 0], norms[index, 1]
                ratio = torch.where(
                    w_norm > 0, torch.where(u_norm > 0, w_norm / u_norm, one),
                    one)
                if group['trust_clip']:
                    ratio = torch.minimum(ratio, one)
                update.mul_(ratio)
            p.add_(update, alpha=-group['lr'])
        return loss

    @staticmethod
    def _advance_step(group: dict) -> None:
        group['step'] = group.get('step', 0) + 1

    def _adam_update(self, p: torch.Tensor, group: dict,
                     clip: torch.Tensor) -> Optional[torch.Tensor]:
        """``m_hat / (sqrt(v_hat) + eps) + wd * w`` for the local slice of
        ``p`` (moments updated in place), or None without a gradient."""
        if p.grad is None:
            return None
        beta1, beta2 = group['betas']
        beta3 = 1 - beta1 if group['grad_averaging'] else 1.0
        if group['bias_correction']:
            correction1 = 1 - beta1**group['step']
            correction2 = 1 - beta2**group['step']
        else:
            correction1 = correction2 = 1.0
        grad = p.grad.div_(clip)
        state = self.state[p]
        if len(state) == 0:
            state['exp_avg'] = torch.zeros_like(p)
            state['exp_avg_sq'] = torch.zeros_like(p)
        exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
        exp_avg.mul_(beta1).add_(grad, alpha=beta3)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (exp_avg_sq.sqrt() / math.sqrt(correction2)).add_(group['eps'])
        update = (exp_avg / correction1).div_(denom)
        if group['weight_decay'] != 0:
            update.add_(p, alpha=group['weight_decay'])
        return update
