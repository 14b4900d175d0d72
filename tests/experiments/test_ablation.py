"""The ablation's machinery: controls that differ in exactly one thing, the
paired interval on hand-computed numbers, and a two-row, one-seed run of
``benchmarks/ablation.py`` end to end (resumed without repeating a run)."""
import argparse
import importlib.util
import json
import math

import pytest
from config_flatten import flatten
from mmengine.config import Config, DictAction
from tool_runner import ROOT, run_tool

from mmvitreg.experiments.ablation_rows import ROWS, Schedule
from mmvitreg.experiments.stats import paired_difference, summarise

# What each row changes over its control, as resolved config key prefixes
# (written by hand from the row's note, not derived from the rows).
NAMED_CHANGE = {
    'patch_mixing': {'model.type', 'model.train_cfg.augments'},
    'cosine_0.03': {'model.type', 'model.cosine_loss'},
    'cosine_0.1': {'model.type', 'model.cosine_loss'},
    'cosine_0.3': {'model.type', 'model.cosine_loss'},
    'contrastive': {'model.type', 'model.contrastive_loss'},
    'mixing': {'model.mixing_loss'},
    'diverse': {'model.cosine_loss', 'model.contrastive_loss',
                'model.mixing_loss', 'model.first_layer'},
    # the recipe: token-label pipeline steps, dense head, MixToken
    'token_labeling': {'model.type', 'model.dense_head', 'model.mix_token',
                       'model.aux_inference_weight', 'model.train_cfg',
                       'num_classes', 'token_grid',
                       'train_dataloader.dataset.pipeline',
                       'train_pipeline'},
    'token_labeling_no_mixtoken': {'model.mix_token'},
    'deit3': {'model.head.loss'},
    # the depth study: 24 blocks instead of 12, then the 12-block rows'
    # changes at 24 blocks
    'baseline_24blocks': {'model.backbone.arch.num_layers'},
    'patch_mixing_24blocks': {'model.type', 'model.train_cfg.augments'},
    'diverse_24blocks': {'model.cosine_loss', 'model.contrastive_loss',
                         'model.mixing_loss', 'model.first_layer'},
}
#: the depth rows' transfer, by hand: 24 blocks, the neck reading blocks
#: 6, 12, 18, 24 (0-based 5, 11, 17, 23)
DEPTH_TRANSFER = {'model.backbone.arch.num_layers': (12, 24),
                  'model.backbone.out_indices': ([2, 5, 8, 11],
                                                 [5, 11, 17, 23])}


def parsed_options(options):
    """``--cfg-options`` as tools/train.py parses them (mmengine's
    DictAction: numbers and lists become values)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def resolved(name):
    row = ROWS[name]
    cfg = Config.fromfile(f'{ROOT}/{row.config}')
    cfg.merge_from_dict(dict(o.split('=', 1) for o in row.options))
    return flatten(cfg.to_dict())


@pytest.mark.parametrize('name', sorted(NAMED_CHANGE))
def test_row_differs_from_its_control_in_what_it_names(name):
    row, control = resolved(name), resolved(ROWS[name].control)
    changed = {k for k in set(row) | set(control)
               if row.get(k, '<unset>') != control.get(k, '<unset>')}
    assert changed
    touched = set()
    for key in changed:
        hits = [p for p in NAMED_CHANGE[name]
                if key == p or key.startswith(p + '.')]
        assert hits, f'{name}: {key} changed but is not what the row names'
        touched.update(hits)
    assert touched == NAMED_CHANGE[name]


@pytest.mark.parametrize('name', ['baseline_24blocks',
                                  'patch_mixing_24blocks',
                                  'diverse_24blocks'])
def test_depth_rows_pretrain_and_transfer_24_blocks(name):
    row = ROWS[name]
    assert parsed_options(row.options) == {
        'model.backbone.arch.num_layers': 24}
    cfg = Config.fromfile(f'{ROOT}/{row.transfer}')
    plain = flatten(cfg.to_dict())
    cfg.merge_from_dict(parsed_options(row.transfer_options))
    deep = flatten(cfg.to_dict())
    changed = {k: (plain.get(k), deep.get(k)) for k in set(plain) | set(deep)
               if plain.get(k) != deep.get(k)}
    assert {k: (list(a) if isinstance(a, tuple) else a, b)
            for k, (a, b) in changed.items()} == DEPTH_TRANSFER


def test_depth_rows_are_not_in_the_default_rows():
    spec = importlib.util.spec_from_file_location(
        'ablation_cli', f'{ROOT}/benchmarks/ablation.py')
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    default = cli.parse_args([]).rows.split(',')
    assert set(ROWS) - set(default) == {
        'baseline_24blocks', 'patch_mixing_24blocks', 'diverse_24blocks'}


def test_every_row_with_a_control_is_checked():
    assert {n for n, r in ROWS.items() if r.control} == set(NAMED_CHANGE)
    assert all(r.control in ROWS for r in ROWS.values() if r.control)


def test_summary_and_paired_interval_by_hand():
    s = summarise([1.0, 2.0, 6.0])  # mean 3, var (4 + 1 + 9) / 2 = 7
    assert (s.mean, s.n) == (3.0, 3)
    assert s.std == pytest.approx(math.sqrt(7))
    # differences 1, 2, 3: mean 2, sd 1; t(0.975, 2) = 4.302653
    d = paired_difference({0: 11., 1: 12., 2: 13., 7: 99.},
                          {0: 10., 1: 10., 2: 10.})
    half = 4.302653 / math.sqrt(3)
    assert d.n == 3 and d.mean == pytest.approx(2.0)
    assert (d.low, d.high) == pytest.approx((2 - half, 2 + half), abs=1e-5)
    assert not d.excludes_zero  # [-0.48, 4.48]
    d = paired_difference({0: 2., 1: 2.1, 2: 2.2}, {0: 1., 1: 1., 2: 1.})
    assert d.excludes_zero  # mean 1.1, half 0.248
    one = paired_difference({0: 2.}, {0: 1.})
    assert (one.mean, one.low, one.n) == (1.0, None, 1)
    assert paired_difference({0: 1.}, {1: 1.}) is None


def test_schedule_refuses_what_the_configs_cannot_run():
    with pytest.raises(ValueError, match='warm-up'):
        Schedule(seg_iters=30)
    with pytest.raises(ValueError, match='epochs'):
        Schedule(epochs=1)


def test_two_rows_one_seed_end_to_end_and_resume(tmp_path):
    work = tmp_path / 'ablation'
    args = ['benchmarks/ablation.py', '--rows', 'baseline,contrastive',
            '--seeds', '3', '--epochs', '2', '--seg-iters', '31', '--jobs',
            '2', '--work-dir', str(work)]
    proc = run_tool(args, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '2 to run' in proc.stdout
    assert '[2/2]' in proc.stdout and 'left)' in proc.stdout

    report = json.loads((work / 'results.json').read_text())
    assert report['seeds'] == [3]
    assert report['schedule'] == {'epochs': 2, 'seg_iters': 31}
    assert len(report['commit']) >= 40
    runs = {r['row']: r for r in report['runs']}
    assert set(runs) == {'baseline', 'contrastive'}
    assert runs['contrastive']['options'] == list(ROWS['contrastive'].options)
    for record in runs.values():
        assert record['seed'] == 3
        assert 0 <= record['top1'] <= record['top5'] <= 100
        assert len(record['patch_sim']) == 12
    assert isinstance(runs['baseline']['ade_miou'], float)
    assert 'ade_miou' not in runs['contrastive']  # the row does not transfer
    # the pretraining ran the row's options and the seed
    # (mmengine's own log files, training's and testing's: the console
    # keeps no config listing)
    run_dir = work / 'runs' / 'contrastive' / 'seed3' / 'pretrain'
    log = ''.join(f.read_text() for f in sorted(run_dir.glob('*/*.log')))
    assert 'loss_contrastive' in log and 'seed: 3' in log
    # one seed: the difference is the plain difference, without interval
    diff = report['summary']['contrastive']['metrics']['top1']['diff']
    assert diff['mean'] == pytest.approx(runs['contrastive']['top1'] -
                                         runs['baseline']['top1'])
    assert diff['low'] is None and diff['n'] == 1
    table = (work / 'results.md').read_text()
    assert '| contrastive | baseline | 1 |' in table
    for png in ('similarity_curves.png', 'top1_miou.png'):
        assert (work / png).read_bytes()[:4] == b'\x89PNG'

    result = work / 'runs' / 'baseline' / 'seed3' / 'result.json'
    before = result.stat().st_mtime_ns
    again = run_tool(args, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert '2 already done, 0 to run' in again.stdout
    assert result.stat().st_mtime_ns == before
