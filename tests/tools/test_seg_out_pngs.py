"""``tools/test.py --out DIR`` on the Cityscapes layout: labelIds for a
dataset with the 19 Cityscapes classes, trainIds for the digits stand-in.

The checkpoint is the demo UperNet built from its config with the decode
head's last 1x1 conv zeroed and its bias one-hot, so every pixel predicts
one known class whatever the backbone computes.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from PIL import Image
from tool_runner import CITYSCAPES_CONFIG, ROOT, data_options, run_tool


def constant_checkpoint(path, num_classes: int, cls: int) -> str:
    """Demo UperNet whose decode head predicts ``cls`` everywhere."""
    from mmseg.registry import MODELS

    from mmvitreg.utils.config import load_config
    heads = dict(num_classes=num_classes)
    cfg = load_config(osp.join(ROOT, CITYSCAPES_CONFIG), dict(
        model=dict(backbone=dict(init_cfg=None), decode_head=heads,
                   auxiliary_head=heads)))
    init_default_scope('mmseg')
    state = MODELS.build(cfg.model).state_dict()
    assert state['decode_head.conv_seg.bias'].shape == (num_classes, )
    state['decode_head.conv_seg.weight'].zero_()
    state['decode_head.conv_seg.bias'].copy_(
        10 * torch.eye(num_classes)[cls])
    torch.save({'state_dict': state, 'meta': {}}, path)
    return str(path)


@pytest.mark.parametrize('dataset_type,num_classes,cls,expected', [
    # digits stand-in, no labelIds: trainId 10 (digit nine) written as is
    ('DigitScenesCityscapesDataset', 11, 10, 10),
    # the 19 Cityscapes classes: trainId 18 (bicycle) -> labelId 33
    ('CityscapesDataset', 19, 18, 33),
])
def test_out_writes_pngs_in_the_dataset_label_format(
        digits_root, tmp_path, dataset_type, num_classes, cls, expected):
    opts = ['model.backbone.init_cfg=None',
            f'model.decode_head.num_classes={num_classes}',
            f'model.auxiliary_head.num_classes={num_classes}',
            f'test_dataloader.dataset.type={dataset_type}',
            *data_options(digits_root, 'cityscapes', val_size=3)]
    ckpt = constant_checkpoint(tmp_path / 'const.pth', num_classes, cls)
    out = tmp_path / 'pred'
    proc = run_tool(['tools/test.py', CITYSCAPES_CONFIG, ckpt, '--work-dir',
                     str(tmp_path / 'work'), '--out', str(out),
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'mIoU' in proc.stdout  # still evaluated
    pngs = sorted(out.iterdir())
    assert len(pngs) == 3
    for png in pngs:
        assert png.name.endswith('_leftImg8bit.png')
        mask = np.array(Image.open(png))
        assert mask.shape == (64, 64)  # the original image size
        assert (mask == expected).all(), (png.name, np.unique(mask))
