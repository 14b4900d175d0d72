"""The README's main job end to end, on its shortest schedules: the
token-labeling row is the longest chain (annotator -> labels -> pretraining
-> transfer -> patch similarity)."""
import json
import os.path as osp

from safe_loading import assert_loads_safely
from tool_runner import run_tool


def test_quick_demo_token_labeling_row(tmp_path):
    work = tmp_path / 'demo'
    proc = run_tool(['tools/demo.py', '--quick', '--rows', 'token_labeling',
                     '--jobs', '1', '--work-dir', str(work)], timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (record, ) = json.loads((work / 'results.json').read_text())
    assert record['row'] == 'token_labeling'
    for key in ('annotator_top1', 'top1', 'top5', 'ade_miou'):
        assert isinstance(record[key], float), key
    assert len(record['patch_sim']) == 12  # one value per block
    assert 'cityscapes_miou' not in record  # opt-in (--cityscapes)
    # the annotator labelled every training image, at its 4x4 grid
    index = json.loads(
        (work / 'annotators' / 'seed0' / 'token_labels' /
         'index.json').read_text())
    assert len(index['images']) == 1438
    assert {tuple(v[2:4]) for v in index['images'].values()} == {(4, 4)}
    # the pretraining read them: its config points at this store
    # (mmengine's own log files, training's and testing's: the console
    # keeps no config listing)
    run_dir = work / 'runs' / 'token_labeling' / 'seed0' / 'pretrain'
    log = ''.join(f.read_text() for f in sorted(run_dir.glob('*/*.log')))
    assert 'loss_token' in log
    assert osp.join(str(work), 'annotators', 'seed0', 'token_labels') in log
    assert (work / 'similarity_curves.png').read_bytes()[:4] == b'\x89PNG'
    table = (work / 'results.md').read_text()
    assert table.splitlines()[2].startswith('| token_labeling |')
    assert 'token_labeling: annotator top-1' in proc.stdout
    # the self-check: the row's numbers beside the committed ablation's
    # range, the count last (the quick schedule's numbers may be outside)
    assert '| token_labeling | top-1 |' in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].startswith('self-check: ')
    assert 'of 4 numbers outside' in proc.stdout
    # the annotator's and the token-labelled ViT's checkpoints load safely
    for run in (work / 'annotators' / 'seed0' / 'annotator',
                work / 'runs' / 'token_labeling' / 'seed0' / 'pretrain'):
        assert_loads_safely((run / 'last_checkpoint').read_text().strip())
