"""A committed ablation report continues on a fresh machine: its finished
runs are copied into the work dir as finished (own commit and machine
kept), only for this plan, never over a run already there; a report of
another schedule or with other options is refused, naming file and key."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from tool_runner import ROOT

from mmvitreg.experiments.ablation import import_runs, load_result, plan
from mmvitreg.experiments.ablation_rows import ROWS, Schedule


def record(row: str, seed: int, top1: float, **extra) -> dict:
    """A run record as a report stores it (fields by hand)."""
    return dict(row=row, seed=seed, config=ROWS[row].config,
                options=list(ROWS[row].options), commit='c0ffee' * 6 + 'c0ff',
                machine=dict(cpu_model='Other CPU', cpu_count=8),
                top1=top1, top5=99.0, patch_sim=[0.5, 0.4], **extra)


def write_report(tmp_path, runs, schedule=None) -> str:
    path = str(tmp_path / 'results.json')
    with open(path, 'w') as f:
        json.dump(dict(schedule=schedule or dict(epochs=15, seg_iters=1000),
                       runs=runs), f)
    return path


def test_imports_only_this_plans_missing_runs(tmp_path):
    work = str(tmp_path / 'work')
    report = write_report(tmp_path, [
        record('baseline', 0, 61.5), record('baseline', 1, 70.25),
        record('diverse', 0, 83.0), record('baseline', 9, 11.0)])
    rows = [ROWS['baseline'], ROWS['diverse']]
    # seed 1 of the baseline already finished here: kept as it is
    (tmp_path / 'old').mkdir()
    import_runs(write_report(tmp_path / 'old', [record('baseline', 1, 1.0)]),
                rows, [1], work, Schedule())
    got = import_runs(report, rows, [0, 1], work, Schedule())
    assert got == [('baseline', 0), ('diverse', 0)]
    first = load_result(work, 'baseline', 0)
    assert first['top1'] == 61.5
    assert first['machine'] == dict(cpu_model='Other CPU', cpu_count=8)
    assert first['commit'] == 'c0ffee' * 6 + 'c0ff'
    assert first['imported_from'] == report
    assert load_result(work, 'baseline', 1)['top1'] == 1.0
    assert load_result(work, 'baseline', 9) is None  # not in the plan
    # every planned pair is now finished or still to run, none twice
    done = [(r.name, s) for r, s in plan(rows, [0, 1])
            if load_result(work, r.name, s)]
    assert sorted(done) == [('baseline', 0), ('baseline', 1), ('diverse', 0)]
    assert import_runs(report, rows, [0, 1], work, Schedule()) == []


def test_other_schedule_is_refused_naming_the_file(tmp_path):
    report = write_report(tmp_path, [record('baseline', 0, 61.5)],
                          schedule=dict(epochs=25, seg_iters=1000))
    with pytest.raises(ValueError, match=r'results\.json: schedule .*25'):
        import_runs(report, [ROWS['baseline']], [0], str(tmp_path / 'w'),
                    Schedule())
    assert not osp.exists(tmp_path / 'w')


def test_other_options_are_refused_naming_the_run_and_key(tmp_path):
    bad = record('diverse', 2, 80.0)
    bad['options'] = ['model.cosine_loss.loss_weight=0.5']
    report = write_report(tmp_path, [bad])
    match = r'results\.json: runs\[diverse seed 2\]\.options'
    with pytest.raises(ValueError, match=match):
        import_runs(report, [ROWS['diverse']], [2], str(tmp_path / 'w'),
                    Schedule())


def test_a_depth_run_without_its_transfer_depth_is_refused(tmp_path):
    # a 24-block run whose record lacks the transfer's depth options would
    # stand for a transfer that did not load the 24-block checkpoint
    report = write_report(tmp_path, [record('baseline_24blocks', 0, 40.0)])
    match = (r'results\.json: runs\[baseline_24blocks seed 0\]'
             r'\.transfer_options is None')
    with pytest.raises(ValueError, match=match):
        import_runs(report, [ROWS['baseline_24blocks']], [0],
                    str(tmp_path / 'w'), Schedule())
    good = record('baseline_24blocks', 0, 40.0, transfer_options=[
        'model.backbone.arch.num_layers=24',
        'model.backbone.out_indices=[5,11,17,23]'])
    report = write_report(tmp_path, [good])
    assert import_runs(report, [ROWS['baseline_24blocks']], [0],
                       str(tmp_path / 'w'), Schedule()) == [
                           ('baseline_24blocks', 0)]


def test_not_a_report_is_named(tmp_path):
    path = tmp_path / 'other.json'
    path.write_text('{"rows": {}}')
    with pytest.raises(ValueError, match=r"other\.json: no 'schedule'"):
        import_runs(str(path), [ROWS['baseline']], [0], str(tmp_path),
                    Schedule())


def test_cli_names_a_bad_report(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"schedule": {"epochs": 3, "seg_iters": 1000}, '
                   '"runs": []}')
    proc = subprocess.run(
        [sys.executable, 'benchmarks/ablation.py', '--rows', 'baseline',
         '--seeds', '0', '--work-dir', str(tmp_path / 'w'), '--import-runs',
         str(bad), '--report-only'], cwd=ROOT, capture_output=True,
        text=True, timeout=600)
    assert proc.returncode != 0
    assert f'ablation: {bad}: schedule' in proc.stderr


def test_report_counts_runs_per_commit():
    from mmvitreg.experiments.ablation_report import commit_counts
    runs = [dict(commit='a'), dict(commit='b'), dict(commit='a'), dict()]
    assert commit_counts(runs) == {'a': 2, 'b': 1, 'unrecorded': 1}
