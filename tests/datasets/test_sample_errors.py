"""A sample whose pipeline fails names its files, whatever the transform.

The case the annotation check cannot see: a corrupt (undecodable)
annotation PNG fails inside mmseg's ``LoadAnnotations`` with a message that
names no file. The exception keeps its type and message and carries a
note (shown in every traceback, also from a loader worker) with the
sample's ``img_path`` and ``seg_map_path``.
"""
import traceback

import pytest
from tool_runner import (
    ADE_CONFIG,
    CITYSCAPES_CONFIG,
    data_options,
    run_tool,
    seg_dataset,
)

GARBAGE = b'\x89PNG\r\n\x1a\n' + b'\x00 truncated, not an image' * 8


def _corrupt_first(config, root, loader):
    dataset = seg_dataset(config, root, loader)
    info = dataset.get_data_info(0)
    with open(info['seg_map_path'], 'wb') as f:
        f.write(GARBAGE)
    return dataset, info


@pytest.mark.parametrize('config', [ADE_CONFIG, CITYSCAPES_CONFIG])
@pytest.mark.parametrize('loader', ['train_dataloader', 'test_dataloader'])
def test_corrupt_annotation_error_names_the_files(tiny_digits_root, config,
                                                  loader):
    dataset, info = _corrupt_first(config, tiny_digits_root, loader)
    with pytest.raises(Exception) as err:
        dataset[0]
    text = ''.join(traceback.format_exception(err.value))
    assert f"seg_map_path={info['seg_map_path']}" in text
    assert f"img_path={info['img_path']}" in text
    assert len(err.value.__notes__) == 1
    dataset[1]  # the others still load


def test_training_names_the_corrupt_annotation_from_a_worker(
        tiny_digits_root, tmp_path):
    _, info = _corrupt_first(ADE_CONFIG, tiny_digits_root,
                             'train_dataloader')
    proc = run_tool([
        'tools/train.py', ADE_CONFIG, '--work-dir', str(tmp_path),
        '--cfg-options', 'train_cfg.max_iters=6',
        'model.backbone.init_cfg=None', 'train_dataloader.num_workers=1',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=4',
        *data_options(tiny_digits_root, 'ade')])
    assert proc.returncode != 0
    assert 'DataLoader worker' in proc.stderr, proc.stderr[-3000:]
    assert f"seg_map_path={info['seg_map_path']}" in proc.stderr
