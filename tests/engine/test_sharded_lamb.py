"""ShardedLamb without a process group is mmpretrain's Lamb.

The expected weights come from mmpretrain's ``Lamb`` on a copy of the same
model (its norms are ``Tensor.norm``, ours the square root of summed
squares: equal up to float round-off). The case exercises every branch:
global clipping (gradient norm > max_grad_norm), trust ratio on the
decayed group, none on the group without decay. Under 2 FSDP ranks the
equality with an unsharded run is tests/engine/test_fsdp.py's.
"""
import copy

import torch
from mmpretrain.engine.optimizers import Lamb

import mmvitreg  # noqa: F401  (registration)
from mmvitreg.engine.optimizers import ShardedLamb


def _groups(model):
    return [dict(params=[model[0].weight, model[2].weight]),
            dict(params=[model[0].bias, model[1].weight, model[1].bias,
                         model[2].bias], weight_decay=0.)]


def test_sharded_lamb_equals_lamb_in_one_process():
    torch.manual_seed(0)
    ours = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.LayerNorm(4),
                               torch.nn.Linear(4, 3))
    reference = copy.deepcopy(ours)
    kwargs = dict(lr=0.1, weight_decay=0.05, max_grad_norm=1.0)
    optimizers = [(ours, ShardedLamb(_groups(ours), **kwargs)),
                  (reference, Lamb(_groups(reference), **kwargs))]
    start = [p.detach().clone() for p in ours.parameters()]
    for _ in range(3):
        x = torch.randn(8, 5)
        norms = []
        for model, optimizer in optimizers:
            optimizer.zero_grad()
            (model(x).pow(2).sum() * 10).backward()
            norms.append(torch.cat([p.grad.flatten()
                                    for p in model.parameters()]).norm())
            optimizer.step()
        assert norms[0] > 1.0  # the global clipping branch runs
    for got, want, before in zip(ours.parameters(), reference.parameters(),
                                 start, strict=True):
        assert (want - before).abs().max() > 1e-3  # it trained
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)
    assert optimizers[0][1].param_groups[0]['step'] == 3
