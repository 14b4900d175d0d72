"""The model zoo: the index lists the papers' rows with their published
numbers, OpenMMLab's tools find it (mim, mmpretrain's ModelHub, mmengine's
inferencers by name), and README's table is the generated one."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmpretrain import get_model, inference_model, list_models
from tool_runner import ROOT

import mmvitreg  # noqa: F401
from mmvitreg.model_zoo import load_models, model_zoo_table

# The papers' numbers (Gong et al. 2021 Tables 1-2 and abstract; LV-ViT
# README; DeiT III README_revenge), typed from the sources, not read from
# the metafiles.
PUBLISHED = {
    'deit_s24': 80.3, 'deit_s24_diverse': 82.2,
    'deit_b24': 82.1, 'deit_b24_diverse': 83.3,
    'swin_b': 83.4, 'swin_b_diverse': 83.7,
    'swin_l': 87.3, 'swin_l_diverse': 87.4,
    'lvvit_s_token_labeling': 83.3, 'deit3_b_in1k_ft224': 83.8,
    'upernet_swin_l_ade20k_stage2': 54.5,
    'upernet_lvvit_s_ade20k': 47.9,
    'upernet_swin_l_cityscapes': 83.6,
}


def _by_name():
    return {m.name: m for m in load_models()}


def test_index_has_the_published_numbers_and_existing_configs():
    models = _by_name()
    for name, value in PUBLISHED.items():
        metrics = models[name].results[0].metrics
        assert list(metrics.values()) == [value], name
    for name, model in models.items():
        # the name is the config's stem; the config exists
        assert model.config == osp.join(
            'configs', 'seg' if name.startswith('upernet') else 'pretrain',
            name + '.py')
        assert osp.isfile(osp.join(ROOT, model.config)), model.config
        assert model.weights is None  # nothing hosted


def test_readme_table_is_the_generated_one():
    with open(osp.join(ROOT, 'README.md')) as f:
        readme = f.read()
    assert model_zoo_table() in readme, (
        'README model-zoo table differs: run python '
        'tools/analysis/model_zoo_table.py --write')


def test_mmpretrain_lists_builds_and_infers_by_name():
    assert list_models('*diverse*') == sorted([
        'deit_b24_diverse', 'deit_b24_diverse_released',
        'deit_b24_diverse_released_refine', 'deit_s24_diverse',
        'deit_s24_diverse_token_labeling', 'swin_b_diverse',
        'swin_l_diverse', 'upernet_deit_b24_diverse_ade20k',
        'upernet_deit_s24_diverse_ade20k'])
    assert 'upernet_swin_l_cityscapes' in list_models(
        task='Semantic Segmentation')
    model = get_model('deit_s24')
    assert type(model).__name__ == 'ImageClassifier'
    assert len(model.backbone.layers) == 24
    assert model.backbone.embed_dims == 384
    result = inference_model(model, np.zeros((224, 224, 3), np.uint8))
    assert len(result['pred_scores']) == 1000


def test_mmseg_inferencer_finds_a_model_by_name():
    from mmseg.apis import MMSegInferencer
    inferencer = MMSegInferencer(
        model='upernet_lvvit_s_ade20k', scope='mmvitreg', device='cpu')
    assert type(inferencer.model).__name__ == 'DiverseEncoderDecoder'
    assert inferencer.model.decode_head.num_classes == 150


def test_mim_search_lists_the_models():
    out = subprocess.run(
        [sys.executable, '-m', 'mim', 'search', 'mmvitreg', '--config',
         'upernet_swin_l_cityscapes'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'config id: upernet_swin_l_cityscapes' in out.stdout
    assert 'cityscapes/miou             83.6' in out.stdout


def test_unknown_name_is_refused_by_name():
    with pytest.raises(ValueError, match='no_such_model'):
        get_model('no_such_model')
