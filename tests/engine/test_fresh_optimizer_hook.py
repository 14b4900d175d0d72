"""FreshOptimizerHook: the released refine stage's fresh optimizer. mmengine
restores the optimizer only when the resumed checkpoint holds one
(``Runner.resume``: ``if 'optimizer' in checkpoint``), so the hook's job is
to remove it at the hand-off epoch and nowhere else."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import HOOKS

import mmvitreg  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def checkpoint(epoch):
    return {'meta': {'epoch': epoch}, 'state_dict': {},
            'optimizer': {'state': {0: {'exp_avg': 1.0}}}}


def test_drops_the_optimizer_of_the_handoff_checkpoint_only():
    hook = HOOKS.build(dict(type='FreshOptimizerHook', at_epoch=300))
    handoff, later = checkpoint(300), checkpoint(350)
    hook.after_load_checkpoint(None, handoff)
    hook.after_load_checkpoint(None, later)
    assert 'optimizer' not in handoff
    assert later['optimizer'] == {'state': {0: {'exp_avg': 1.0}}}


def test_refuses_a_meaningless_epoch():
    with pytest.raises(ValueError, match='at_epoch'):
        HOOKS.build(dict(type='FreshOptimizerHook', at_epoch=0))


def test_refine_config_resumes_epoch_300_with_a_fresh_optimizer():
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/pretrain/deit_b24_diverse_released_refine.py'))
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['FreshOptimizerHook']['at_epoch'] == 300
    assert cfg.load_from.endswith('epoch_300.pth') and cfg.resume
