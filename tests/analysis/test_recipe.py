"""docs/recipes.md is what tools/analysis/print_recipe.py generates from the
configs (so the document cannot drift from them), and the tool prints the
resolved values."""
import os.path as osp
import subprocess
import sys

from mmengine.config import Config

import mmvitreg  # noqa: F401
from mmvitreg.analysis.memory_doc import committed_section
from mmvitreg.analysis.recipe import full_configs, recipe, recipes_doc

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_recipes_doc_is_up_to_date():
    with open(osp.join(ROOT, 'docs', 'recipes.md')) as f:
        committed = f.read()
    # The memory table takes minutes to estimate: its rows are recomputed
    # in tests/analysis/test_memory_plan.py.
    memory = committed_section(committed)
    assert memory is not None, 'docs/recipes.md has no memory table'
    assert recipes_doc(ROOT, memory) == committed, (
        'docs/recipes.md differs from the configs: run '
        'python tools/analysis/print_recipe.py --doc')


def test_doc_covers_every_full_config():
    with open(osp.join(ROOT, 'docs', 'recipes.md')) as f:
        doc = f.read()
    names = full_configs(ROOT)
    assert 'configs/seg/upernet_swin_l_ade20k_stage2.py' in names
    for name in names:
        assert f'### `{name}`' in doc, name


def test_recipe_reads_the_resolved_values():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pretrain/deit_s24.py'))
    rows = dict(recipe(cfg))
    assert rows['length'] == '300 epochs'
    assert rows['batch (per GPU x GPUs)'] == '128 x 8 = 1024'
    assert rows['lr'] == '0.001'
    assert rows['sampler'] == 'RepeatAugSampler(num_repeats=3)'
    assert 'Mixup(0.8)' in rows['augmentations']
    seg = Config.fromfile(
        osp.join(ROOT, 'configs/seg/upernet_lvvit_s_ade20k.py'))
    rows = dict(recipe(seg))
    assert rows['layer decay'] == '-'
    assert rows['test'] == 'slide'
    assert rows['batch (per GPU x GPUs)'] == '2 x 8 = 16'


def test_tool_prints_terminal_and_markdown_tables():
    out = subprocess.run(
        [sys.executable, 'tools/analysis/print_recipe.py',
         'configs/pretrain/lvvit_s_token_labeling.py'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'EMAHook momentum 8e-05' in out.stdout
    assert '| value | `configs/pretrain/lvvit_s_token_labeling.py` |' \
        in out.stdout


def test_tool_names_a_missing_config():
    out = subprocess.run(
        [sys.executable, 'tools/analysis/print_recipe.py', 'nope.py'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and 'nope.py' in out.stderr
