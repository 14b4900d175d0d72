"""The suite's classification configs work with mmpretrain's own tools:
``tools/visualization/browse_dataset.py`` builds
``UniversalVisualizer(**cfg.visualizer)`` with ``type`` popped, which
failed on the ``_scope_`` key that a ``mmpretrain::`` base adds."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmpretrain.visualization import UniversalVisualizer
from tool_runner import ROOT

CLS_CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in
    glob.glob(osp.join(ROOT, 'configs', 'pretrain', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'demo', '*.py'))
    if "default_scope = 'mmpretrain'" in open(p).read()
    or not osp.basename(p).startswith('upernet'))


@pytest.mark.parametrize('config', CLS_CONFIGS)
def test_visualizer_builds_as_browse_dataset_does(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    if cfg.get('default_scope') != 'mmpretrain':
        pytest.skip('not a classification config')
    kwargs = dict(cfg.visualizer)
    assert kwargs.pop('type') == 'UniversalVisualizer'
    assert '_scope_' not in kwargs
    visualizer = UniversalVisualizer(
        **kwargs, name=f'browse_{osp.basename(config)}')
    assert isinstance(visualizer, UniversalVisualizer)
