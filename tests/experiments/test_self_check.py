"""The main job's self-check against a hand-made ``results.json``: ranges,
marks and the count of outside numbers, all computed by hand below."""
import json

import pytest

from mmvitreg.experiments.self_check import check


def run(row, seed, **metrics):
    return dict(row=row, seed=seed, **metrics)


@pytest.fixture
def reports(tmp_path):
    # baseline top-1 40/50/60: mean 50, sd sqrt((100 + 0 + 100) / 2) = 10;
    # top-5 90/92/94: mean 92, sd 2; last-layer sim 0.5/0.6/0.7: mean 0.6,
    # sd 0.1; ADE mIoU on one seed only (80): no sd
    big = [run('baseline', 0, top1=40.0, top5=90.0, patch_sim=[0.1, 0.5],
               ade_miou=80.0),
           run('baseline', 1, top1=50.0, top5=92.0, patch_sim=[0.1, 0.6]),
           run('baseline', 2, top1=60.0, top5=94.0, patch_sim=[0.1, 0.7])]
    # a second report: baseline with 2 seeds (loses to the 3-seed one);
    # deit3 top-1 10/20: mean 15, sd sqrt((25 + 25) / 1) = 7.0711
    small = [run('baseline', 0, top1=0.0, top5=0.0, patch_sim=[0.0]),
             run('baseline', 1, top1=1.0, top5=1.0, patch_sim=[0.0]),
             run('deit3', 0, top1=10.0, patch_sim=[]),
             run('deit3', 1, top1=20.0, patch_sim=[])]
    paths = []
    for name, runs in (('big', big), ('small', small)):
        path = tmp_path / f'{name}.json'
        path.write_text(json.dumps(dict(commit='x', runs=runs)))
        paths.append(str(path))
    return paths


def test_marks_and_count_by_hand(reports):
    records = [dict(row='baseline', top1=65.0, top5=91.0,
                    patch_sim=[0.2, 0.85], ade_miou=80.0),
               dict(row='deit3', top1=30.0, top5=None, patch_sim=None),
               dict(row='token_labeling', top1=90.0)]  # not in any report
    text, outside, checked = check(records, reports)
    lines = text.splitlines()
    assert ('| baseline | top-1 | 65.00 | 3 | 40.00 - 60.00 OUTSIDE | '
            '50.00 ± 20.00 within |') in lines
    assert ('| baseline | top-5 | 91.00 | 3 | 90.00 - 94.00 within | '
            '92.00 ± 4.00 within |') in lines
    assert ('| baseline | last-layer patch sim | 0.850 | 3 | 0.500 - 0.700 '
            'OUTSIDE | 0.600 ± 0.200 OUTSIDE |') in lines
    assert '| baseline | ADE mIoU | 80.00 | 1 | 80.00 - 80.00 within | - |' \
        in lines
    assert ('| deit3 | top-1 | 30.00 | 2 | 10.00 - 20.00 OUTSIDE | '
            '15.00 ± 14.14 OUTSIDE |') in lines
    assert not any('token_labeling' in line for line in lines)
    # outside: baseline top-1, baseline sim, deit3 top-1; 5 numbers checked
    assert (outside, checked) == (3, 5)
    assert lines[-1].startswith('self-check: 3 of 5 numbers outside')


def test_a_number_on_the_two_sd_edge_is_within(reports):
    # 50 + 2 * 10 = 70 exactly
    text, outside, _ = check([dict(row='baseline', top1=70.0)], reports)
    assert '50.00 ± 20.00 within' in text and outside == 1  # min-max: 60


def test_unreadable_report_is_named(tmp_path):
    bad = tmp_path / 'results.json'
    bad.write_text('{"summary": {}}')
    with pytest.raises(ValueError, match='results.json has no .runs. list'):
        check([dict(row='baseline', top1=1.0)], [str(bad)])
