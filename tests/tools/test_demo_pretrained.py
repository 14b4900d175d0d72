"""The demo segmentation configs name a backbone checkpoint the main job
writes, and ``tools/train.py`` fails before the Runner starts, naming the
config key and the ``--cfg-options`` to set, when it is missing."""
import os.path as osp

import pytest
from mmengine.config import Config
from tool_runner import ADE_CONFIG, ROOT, SWIN_ADE_CONFIG, run_tool

from mmvitreg.cli import check_pretrained_files

KEY = 'model.backbone.init_cfg.checkpoint'


@pytest.mark.parametrize('config,row', [
    (ADE_CONFIG, 'baseline'),
    ('configs/demo/upernet_vit_tiny_digits_cityscapes.py', 'baseline'),
    ('configs/demo/upernet_deit3_tiny_digits_ade20k.py', 'deit3'),
])
def test_demo_configs_name_the_main_jobs_checkpoint(config, row):
    # tools/demo.py: --work-dir work_dirs/demo, seed 0, 15 epochs; each
    # row's pretraining run is runs/<row>/seed0/pretrain
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.model.backbone.init_cfg.checkpoint == (
        f'work_dirs/demo/runs/{row}/seed0/pretrain/epoch_15.pth')


def test_missing_pretrained_names_the_key(tmp_path):
    cfg = Config(dict(model=dict(backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'none.pth'))))))
    with pytest.raises(FileNotFoundError) as err:
        check_pretrained_files(cfg)
    assert str(err.value).startswith(
        f"{KEY}: pretrained checkpoint '{tmp_path}/none.pth' does not exist")
    assert f'--cfg-options {KEY}=PATH' in str(err.value)
    assert 'model.backbone.init_cfg=None' in str(err.value)
    (tmp_path / 'none.pth').write_bytes(b'')
    check_pretrained_files(cfg)  # exists: fine
    cfg.model.backbone.init_cfg.checkpoint = 'https://host/ckpt.pth'
    check_pretrained_files(cfg)  # URLs are the loader's business


def test_train_tool_fails_before_the_runner(digits_root, tmp_path):
    work = tmp_path / 'work'
    root = osp.join(digits_root, 'ade', 'ADEChallengeData2016')
    proc = run_tool(['tools/train.py', SWIN_ADE_CONFIG, '--work-dir',
                     str(work), '--cfg-options',
                     *[f'{k}_dataloader.dataset.data_root={root}'
                       for k in ('train', 'val', 'test')]])
    assert proc.returncode != 0
    assert (f"FileNotFoundError: {KEY}: pretrained checkpoint "
            "'work_dirs/swin_tiny_digits/epoch_10.pth' does not exist"
            ) in proc.stderr
    assert not work.exists()  # the Runner never started
    assert 'Environment' not in proc.stdout + proc.stderr
