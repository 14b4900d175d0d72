"""ContinueScheduleHook: a resumed stage 2 runs under its own schedule."""
import types

import pytest
import torch
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR, PolyLR
from mmengine.registry import HOOKS

import mmvitreg  # noqa: F401
from mmvitreg.engine.hooks.continue_schedule_hook import fast_forward


def _optimizer(lrs):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    return torch.optim.AdamW(
        [dict(params=[p], lr=lr) for p, lr in zip(params, lrs, strict=True)])


def _poly_schedule(opt, end):
    return [LinearLR(opt, start_factor=1e-6, by_epoch=False, begin=0,
                     end=10),
            PolyLR(opt, eta_min=0.0, power=1.0, by_epoch=False, begin=10,
                   end=end)]


def _run(schedulers, iters):
    for _ in range(iters):
        for s in schedulers:
            s.step()


@pytest.mark.parametrize('make', [
    lambda opt: _poly_schedule(opt, 125),
    lambda opt: [LinearLR(opt, start_factor=1e-3, by_epoch=False, end=5),
                 CosineAnnealingLR(opt, eta_min=1e-7, by_epoch=False,
                                   begin=5, end=125)],
])
def test_fast_forward_equals_an_uninterrupted_run(make):
    lrs = [6e-5, 6e-5, 3e-5]  # two distinct values: proxies are shared
    # reference: one run of the long schedule, stopped at iteration 100
    ref_opt = _optimizer(lrs)
    ref = make(ref_opt)
    _run(ref, 100)
    # stage 1 ran a shorter schedule to its end (lr at ~0) ...
    opt = _optimizer(lrs)
    _run(_poly_schedule(opt, 100), 100)
    assert opt.param_groups[0]['lr'] < 1e-6
    # ... stage 2 builds the long schedule fresh, then fast-forwards
    stage2 = make(opt)
    fast_forward(stage2, iters=100, epochs=0)
    got = [g['lr'] for g in opt.param_groups]
    want = [g['lr'] for g in ref_opt.param_groups]
    assert got == pytest.approx(want, rel=1e-9)
    assert got[0] > 1e-6
    # the following steps continue identically
    _run(ref, 10)
    _run(stage2, 10)
    assert [g['lr'] for g in opt.param_groups] == pytest.approx(
        [g['lr'] for g in ref_opt.param_groups], rel=1e-9)


def test_poly_200k_at_160k_is_a_fifth_of_the_base_lr():
    """The released Swin-L continuation: poly (power 1) over 200k with 1500
    warm-up iterations, at iteration 160k (scaled down 1000x)."""
    opt = _optimizer([6e-5])
    stage2 = [LinearLR(opt, start_factor=1e-6, by_epoch=False, end=15),
              PolyLR(opt, eta_min=0.0, power=1.0, by_epoch=False, begin=15,
                     end=2000)]
    fast_forward(stage2, iters=1600, epochs=0)
    # closed form of poly: lr = base * (1 - (t - b) / (e - b)), by hand
    assert opt.param_groups[0]['lr'] == pytest.approx(
        6e-5 * (1 - (1600 - 15) / (2000 - 15)), rel=2e-3)


def test_hook_discards_checkpoint_schedules_then_fast_forwards():
    hook = HOOKS.build(dict(type='ContinueScheduleHook'))
    opt = _optimizer([1.0])
    schedulers = _poly_schedule(opt, 125)
    checkpoint = dict(param_schedulers=[{}, {}], meta={})
    hook.after_load_checkpoint(None, checkpoint)
    assert 'param_schedulers' not in checkpoint
    runner = types.SimpleNamespace(
        param_schedulers=schedulers, iter=100, epoch=0,
        logger=types.SimpleNamespace(info=lambda msg: None))
    hook.before_train(runner)
    # mmengine's poly, power 1: base * (1 - s / (end - begin - 1))
    assert opt.param_groups[0]['lr'] == pytest.approx(
        1 - (100 - 10) / (125 - 10 - 1), rel=1e-9)


def test_hook_without_resume_changes_nothing():
    hook = HOOKS.build(dict(type='ContinueScheduleHook'))
    opt = _optimizer([1.0])
    schedulers = _poly_schedule(opt, 125)
    before = opt.param_groups[0]['lr']
    runner = types.SimpleNamespace(param_schedulers=schedulers, iter=0,
                                   epoch=0)
    hook.before_train(runner)
    assert opt.param_groups[0]['lr'] == before
