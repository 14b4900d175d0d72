"""Each segmentation config loads its pretraining config's backbone with
every block and patch-embedding tensor (shape-wise, on ``meta``).

The pretraining checkpoint of a seg config is named by its ``pretrained``
path (``work_dirs/<pretrain config>/epoch_N.pth``); the checked
``Pretrained`` initialiser would refuse any unloaded block tensor, so here
the same rule is applied to the two models built from the configs.
"""
import glob
import os.path as osp

import pytest
from meta_params import params_on_meta
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmvitreg  # noqa: F401  (compat layer before mmseg)
from mmvitreg.models.weight_init import (
    CheckedPretrainedInit,
    load_state_dict_report,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEG = sorted(glob.glob(osp.join(ROOT, 'configs', 'seg', '*.py')))


def _backbone(cfg):
    init_default_scope(cfg.default_scope)
    if cfg.default_scope == 'mmseg':
        from mmseg.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    with params_on_meta():
        return MODELS.build(cfg.model.backbone)


@pytest.mark.parametrize('path', SEG, ids=osp.basename)
def test_seg_config_loads_every_block_of_its_pretraining(path):
    seg = Config.fromfile(path)
    init = seg.model.backbone.init_cfg
    name = osp.basename(osp.dirname(seg.pretrained))
    src = Config.fromfile(osp.join(ROOT, 'configs', 'pretrain', name + '.py'))
    state = {f'backbone.{k}': v
             for k, v in _backbone(src).state_dict().items()}
    prefix = init.get('prefix', 'backbone.')
    state = {k[len(prefix):]: v for k, v in state.items()
             if k.startswith(prefix)}
    report = load_state_dict_report(_backbone(seg), state)
    checker = CheckedPretrainedInit(
        checkpoint=init.checkpoint, prefix=prefix,
        new_keys=init.get('new_keys', ()))
    assert checker.unloaded_block_keys(report) == [], report.summary()
    assert report.ratio >= init.get('min_match', 0.9), report.summary()
