"""Every config under ``configs/seg/`` builds mmvitreg's
``DiverseEncoderDecoder`` with the patch cosine loss switched on the way
the README documents it (``--cfg-options
model.diversity_loss.type=PatchCosineLoss``), and its ``auto_scale_lr``
base batch is the batch it trains with (per GPU x the GPUs it assumes).

The list of configs is a glob, so a new segmentation config is covered
without editing this file. Models are built with their parameters on the
``meta`` device (Swin-L / DeiT-B24 UperNets without memory) and with the
backbone's ``init_cfg`` dropped, so no checkpoint is read.
"""
import glob
import os.path as osp

import pytest
from meta_params import params_on_meta
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmvitreg  # noqa: F401  (compat layer before mmseg)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEG = sorted(glob.glob(osp.join(ROOT, 'configs', 'seg', '*.py')))


def _rel(path: str) -> str:
    return osp.relpath(path, ROOT)


def _text_with_bases(path: str) -> str:
    """The file's text followed by its local ``_base_`` files', recursively
    (a child config may take its batch and comment from its base)."""
    with open(path) as f:
        text = f.read()
    for base in Config._get_base_files(path):
        base = osp.join(osp.dirname(path), base)
        if osp.isfile(base):
            text += _text_with_bases(base)
    return text


def test_the_glob_finds_the_segmentation_configs():
    names = {osp.basename(p) for p in SEG}
    assert {'upernet_swin_l_ade20k.py', 'upernet_deit_s24_ade20k.py',
            'upernet_deit_b24_cityscapes.py'} <= names


@pytest.mark.parametrize('path', SEG, ids=_rel)
def test_builds_diverse_encoder_decoder_with_cosine_loss(path):
    from mmseg.registry import MODELS

    from mmvitreg.models.losses import PatchCosineLoss
    from mmvitreg.models.segmentors import DiverseEncoderDecoder

    cfg = Config.fromfile(path)
    # exactly what tools/train.py does with --cfg-options
    cfg.merge_from_dict({'model.diversity_loss.type': 'PatchCosineLoss'})
    cfg.model.backbone.init_cfg = None  # nothing is loaded
    init_default_scope(cfg.default_scope)
    with params_on_meta():
        model = MODELS.build(cfg.model)
    assert type(model) is DiverseEncoderDecoder, _rel(path)
    assert isinstance(model.diversity_loss, PatchCosineLoss), _rel(path)
    assert model.diversity_loss.loss_weight == 0.1


@pytest.mark.parametrize('path', SEG, ids=_rel)
def test_auto_scale_lr_is_the_assumed_total_batch(path):
    cfg = Config.fromfile(path)
    assert 'auto_scale_lr' in cfg, f'{_rel(path)}: no auto_scale_lr'
    assert 'num_gpus' in cfg, f'{_rel(path)}: no num_gpus'
    total = cfg.train_dataloader.batch_size * cfg.num_gpus
    assert cfg.auto_scale_lr.base_batch_size == total, _rel(path)
    # the header comment states the same numbers (8 GPUs x 2 images ...)
    text = _text_with_bases(path)
    image = 'image' if cfg.train_dataloader.batch_size == 1 else 'images'
    claim = (f'{cfg.num_gpus} GPUs x {cfg.train_dataloader.batch_size} '
             f'{image}')
    assert claim in text, f'{_rel(path)}: no "{claim}" comment'
