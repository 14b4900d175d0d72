"""A segmentation annotation that does not fit its image (size, label ids)
fails naming the file, in the train and the test pipelines of the configs."""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image
from tool_runner import (
    ADE_CONFIG,
    CITYSCAPES_CONFIG,
    ROOT,
    data_options,
    run_tool,
    seg_dataset,
)

import mmvitreg  # noqa: F401  (compat layer before mmseg)
from mmvitreg.datasets.transforms import BadAnnotationError

LAYOUTS = {ADE_CONFIG: ('ade', 'ADEChallengeData2016/annotations/training'),
           CITYSCAPES_CONFIG: ('cityscapes', 'gtFine/train')}


def _dataset(config, root, loader):
    return seg_dataset(config, root, loader)


def _first_annotation(root, config):
    layout, sub = LAYOUTS[config]
    base = osp.join(root, layout)
    if layout == 'ade':
        base = osp.join(root, 'ade')
    return sorted(glob.glob(osp.join(base, sub, '**', '*.png'),
                            recursive=True))


def _edit(path, fn):
    seg = np.array(Image.open(path))
    Image.fromarray(fn(seg).astype(np.uint8)).save(path)


@pytest.mark.parametrize('config', [ADE_CONFIG, CITYSCAPES_CONFIG])
@pytest.mark.parametrize('loader', ['train_dataloader', 'test_dataloader'])
@pytest.mark.parametrize('edit,expected', [
    (lambda s: np.pad(s, ((0, 8), (0, 0))), r'is 72x64 \(HxW\).* is 64x'),
    (lambda s: s[:, :40], r'is 64x40 \(HxW\).* is 64x64'),
    (lambda s: np.where(s == s.max(), 200, s),
     r'label ids (199|200) are outside \[0, 11\)'),
])
def test_bad_annotation_names_file(tiny_digits_root, config, loader, edit,
                                   expected):
    dataset = _dataset(config, tiny_digits_root, loader)
    info = dataset.get_data_info(0)
    _edit(info['seg_map_path'], edit)
    with pytest.raises(BadAnnotationError, match=expected) as err:
        dataset[0]
    assert info['seg_map_path'] in str(err.value)
    assert info['img_path'] in str(err.value)
    dataset[1]  # the others still load


def test_ignore_index_is_allowed(tiny_digits_root):
    dataset = _dataset(CITYSCAPES_CONFIG, tiny_digits_root,
                       'train_dataloader')
    info = dataset.get_data_info(0)
    _edit(info['seg_map_path'], lambda s: np.full_like(s, 255))
    dataset[0]


def test_training_on_a_larger_annotation_fails(tiny_digits_root, tmp_path):
    dataset = _dataset(ADE_CONFIG, tiny_digits_root, 'train_dataloader')
    path = dataset.get_data_info(3)['seg_map_path']
    _edit(path, lambda s: np.pad(s, ((0, 16), (0, 16))))
    proc = run_tool([
        'tools/train.py', ADE_CONFIG, '--work-dir', str(tmp_path),
        '--cfg-options', 'train_cfg.max_iters=6',
        'model.backbone.init_cfg=None',
        'train_dataloader.num_workers=0', 'train_dataloader.batch_size=4',
        *data_options(tiny_digits_root, 'ade')])
    assert proc.returncode != 0
    assert 'BadAnnotationError' in proc.stderr, proc.stderr[-3000:]
    assert path in proc.stderr and 'is 80x80 (HxW)' in proc.stderr


# every segmentation config, by glob: a new one is covered without a list
SEG_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'seg', '*.py'))
    + glob.glob(osp.join(ROOT, 'configs', 'demo', 'upernet_*.py')))
SEG_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_the_glob_finds_the_segmentation_configs():
    names = {osp.basename(p) for p in SEG_CONFIGS}
    assert {'upernet_swin_l_ade20k.py', 'upernet_swin_l_ade20k_stage2.py',
            'upernet_deit_b24_cityscapes.py',
            'upernet_vit_tiny_digits_ade20k.py'} <= names


@pytest.mark.parametrize('path', SEG_CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_every_seg_pipeline_checks_annotations(tiny_digits_root, path):
    """The train, val and test pipelines of every segmentation config run
    CheckSegAnnotation right after LoadAnnotations with the model's class
    count; built on the digits tree (same layouts), an annotation taller
    than its image fails naming the file."""
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(path)
    num_classes = cfg.model.decode_head.num_classes
    init_default_scope('mmseg')
    for loader in SEG_LOADERS:
        ds_cfg = copy.deepcopy(cfg[loader].dataset)
        kinds = [t['type'] for t in ds_cfg.pipeline]
        at = kinds.index('LoadAnnotations') + 1
        where = f'{osp.relpath(path, ROOT)} {loader}'
        assert kinds[at] == 'CheckSegAnnotation', where
        assert ds_cfg.pipeline[at]['num_classes'] == num_classes, where
        layout = ('cityscapes' if 'Cityscapes' in ds_cfg.type
                  else 'ade/ADEChallengeData2016')
        ds_cfg.data_root = osp.join(tiny_digits_root, layout)
        dataset = DATASETS.build(ds_cfg)
        seg_path = dataset.get_data_info(0)['seg_map_path']
        with open(seg_path, 'rb') as f:
            original = f.read()
        _edit(seg_path, lambda s: np.pad(s, ((0, 8), (0, 0))))
        with pytest.raises(BadAnnotationError,
                           match=r'is 72x64 \(HxW\)') as err:
            dataset[0]
        assert seg_path in str(err.value), where
        with open(seg_path, 'wb') as f:  # val and test may share files
            f.write(original)


@pytest.mark.parametrize('config', [ADE_CONFIG, CITYSCAPES_CONFIG])
def test_tta_pipeline_checks_annotations(tiny_digits_root, config):
    """``tools/test.py --tta`` puts the test pipeline's check after the
    annotation stage of mmseg's TTA pipeline (12 views: 6 scales x 2
    flips, each checked)."""
    dataset = seg_dataset(config, tiny_digits_root, 'test_dataloader',
                          tta=True)
    views = dataset[1]
    assert len(views['inputs']) == 12
    info = dataset.get_data_info(0)
    _edit(info['seg_map_path'], lambda s: s[:, :40])
    with pytest.raises(BadAnnotationError, match=r'is 64x40 \(HxW\)') as err:
        dataset[0]
    assert info['seg_map_path'] in str(err.value)


def test_passes_through_without_an_annotation():
    """mmseg's inference drops LoadAnnotations from the test pipeline."""
    from mmvitreg.datasets.transforms import CheckSegAnnotation
    results = dict(img=np.zeros((4, 4, 3), np.uint8), ori_shape=(4, 4))
    assert CheckSegAnnotation(num_classes=2)(results) is results
