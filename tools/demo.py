"""The main job: pretrain tiny ViTs on the embedded digits, transfer them with
UperNet to digit scenes, evaluate, and print one results table.

    python tools/demo.py [--rows baseline,diverse,deit3,token_labeling]
                         [--work-dir work_dirs/demo] [--quick] [--jobs 2]
                         [--cityscapes]

Data: ``data/digits`` (written by ``tools/prepare_digits.py`` on first use),
the ``data_root`` of the demo configs.

Every step runs the same command line a user would (``tools/train.py``,
``tools/test.py``, ``tools/analysis/patch_similarity.py``) on the demo
configs in ``configs/demo/``, which inherit the full-size configs and only
shrink them. Rows are independent and run ``--jobs`` at a time (2 on a
2-core machine: tiny models use the cores badly one at a time, 1.7x the
throughput measured here). Each row of the table is one pretraining recipe:

    row | top-1 | top-5 | last-layer patch sim | ADE mIoU | Cityscapes mIoU

A row with an ``annotator`` (token labeling) first trains that classifier,
annotates the training split with ``tools/generate_token_labels.py`` and
points its pretraining config's ``LoadTokenLabel`` at the store.

The table is printed and written to ``<work-dir>/results.md`` and
``results.json``. ``--quick`` shortens every schedule (for tests and smoke
runs); numbers are then not meaningful.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)


@dataclass(frozen=True)
class DemoRow:
    """One pretraining recipe and the transfer configs it feeds."""
    name: str
    pretrain: str
    ade: Optional[str] = 'configs/demo/upernet_vit_tiny_digits_ade20k.py'
    cityscapes: Optional[str] = None
    note: str = ''
    annotator: Optional[str] = None  # token labeling: machine annotator


ROWS: Dict[str, DemoRow] = {
    row.name: row
    for row in [
        DemoRow('baseline', 'configs/demo/vit_tiny_digits.py',
                cityscapes=(
                    'configs/demo/upernet_vit_tiny_digits_cityscapes.py'),
                note='DeiT recipe shrunk to digits (CE + label smoothing), '
                'no extra objective'),
        DemoRow('diverse', 'configs/demo/vit_tiny_digits_diverse.py',
                note='+ patch cosine / contrastive / mixing losses'),
        # DeiT3ViT has no demo UperNet config yet: pretraining row only.
        DemoRow('deit3', 'configs/demo/deit3_tiny_digits.py', ade=None,
                note='DeiT III: 3-Augment, BCE, LAMB, LayerScale'),
        DemoRow('token_labeling',
                'configs/demo/vit_tiny_digits_token_labeling.py',
                annotator='configs/demo/resnet_tiny_digits_annotator.py',
                note='+ token labels from a tiny ResNet annotator, MixToken'),
    ]
}

QUICK_CLS = ['train_cfg.max_epochs=2']  # cosine starts after 1 warm-up epoch
QUICK_SEG = ['train_cfg.max_iters=4', 'train_cfg.val_interval=4']


def say(line: str) -> None:
    """One whole line to stdout (rows report from parallel threads)."""
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def run(cmd: List[str], log: str, env: Optional[dict] = None) -> None:
    """Run one tool, its output to ``log``; fail with the log's tail."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=f,
                              stderr=subprocess.STDOUT, env=env)
    say(f'  {" ".join(cmd[1:3])} ({osp.relpath(osp.dirname(log))}) ... '
        f'{time.time() - start:.0f}s')
    if proc.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-30:])
        raise SystemExit(f'command failed ({proc.returncode}): {" ".join(cmd)}'
                         f'\n--- last lines of {log} ---\n{tail}')


def last_checkpoint(work_dir: str) -> str:
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        raise SystemExit(f'no checkpoint written in {work_dir}')
    with open(marker) as f:
        return f.read().strip()


def train_and_test(config: str, work_dir: str, options: List[str],
                   env: Optional[dict] = None) -> tuple:
    py = sys.executable
    opts = ['--cfg-options', *options] if options else []
    # tools/test.py evaluates the final weights: no second pass in training
    run([py, 'tools/train.py', config, '--work-dir', work_dir,
         '--no-validate', *opts], osp.join(work_dir, 'train.log'), env)
    ckpt = last_checkpoint(work_dir)
    run([py, 'tools/test.py', config, ckpt, '--work-dir', work_dir, *opts],
        osp.join(work_dir, 'test.log'), env)
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        return ckpt, json.load(f)['metrics']


def token_label_store(annotator: str, work_dir: str, options: List[str],
                      env: Optional[dict] = None) -> tuple:
    """Train the annotator, label the training split; (store, top-1)."""
    ckpt, metrics = train_and_test(annotator, osp.join(work_dir, 'annotator'),
                                   options, env)
    store = osp.join(work_dir, 'token_labels')
    run([sys.executable, 'tools/generate_token_labels.py', annotator, ckpt,
         '--data-root', 'data/digits/imagenet', '--out', store, '--topk',
         '5'], osp.join(work_dir, 'generate_token_labels.log'), env)
    return store, metrics.get('accuracy/top1')


def run_row(row: DemoRow, args, env: Optional[dict]) -> tuple:
    """Pretrain one row (after its annotator, if any) and transfer it;
    returns ``(record, (config, checkpoint))``."""
    say(f'[{row.name}] {row.note}')
    wd = osp.join(args.work_dir, row.name)
    options = QUICK_CLS if args.quick else []
    record = dict(row=row.name, note=row.note)
    if row.annotator:
        store, record['annotator_top1'] = token_label_store(
            row.annotator, wd, options, env)
        options = options + [
            f'train_dataloader.dataset.pipeline.1.store_root={store}'
        ]
    ckpt, cls = train_and_test(row.pretrain, osp.join(wd, 'pretrain'),
                               options, env)
    record.update(top1=cls.get('accuracy/top1'), top5=cls.get('accuracy/top5'))
    transfers = [('ade', row.ade)]
    if args.cityscapes:
        transfers.append(('cityscapes', row.cityscapes))
    for key, config in transfers:
        if not config:
            continue
        options = [f'model.backbone.init_cfg.checkpoint={ckpt}']
        options += QUICK_SEG if args.quick else []
        _, seg = train_and_test(config, osp.join(wd, key), options, env)
        record[f'{key}_miou'] = seg.get('mIoU')
    return record, (row.pretrain, ckpt)


def last_layer_similarity(rows: Dict[str, tuple],
                          out_dir: str) -> Dict[str, float]:
    """Per-layer patch similarity of every pretrained row (one plot)."""
    if not rows:
        return {}
    cmd = [sys.executable, 'tools/analysis/patch_similarity.py']
    for config, ckpt in rows.values():
        cmd += [config, ckpt]
    cmd += ['--out', out_dir, '--num-images', '128', '--labels', *rows]
    run(cmd, osp.join(out_dir, 'patch_similarity.log'))
    with open(osp.join(out_dir, 'patch_similarity.json')) as f:
        results = json.load(f)['results']
    return {r['label']: float(r['similarity'][-1]) for r in results}


def fmt(value: Optional[float], scale: float = 1.0) -> str:
    return '-' if value is None else f'{value * scale:.2f}'


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', default=','.join(ROWS),
                        help=f'comma-separated rows among {list(ROWS)}')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--quick', action='store_true',
                        help='shortest schedules (smoke test)')
    parser.add_argument('--jobs', type=int,
                        default=min(2, os.cpu_count() or 1),
                        help='rows run in parallel (one BLAS thread each '
                        'when > 1); default: 2 or the core count')
    parser.add_argument('--cityscapes', action='store_true',
                        help='also transfer the rows that have a Cityscapes '
                        'config (baseline) to the Cityscapes-layout scenes')
    args = parser.parse_args(argv)
    names = [n for n in args.rows.split(',') if n]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f'unknown rows {unknown}; choose among {list(ROWS)}')
    names = [n for n in names if osp.isfile(osp.join(ROOT, ROWS[n].pretrain))]

    from mmvitreg.datasets.digits import prepare_digits
    t0 = time.time()
    # the tree is generated and ours: an older format is rewritten
    prepare_digits(osp.join(ROOT, 'data', 'digits'), force=True)

    # longest chains first, so that the pool's two lanes end together
    names.sort(key=lambda n: (ROWS[n].annotator is None, ROWS[n].ade is None))
    env = None
    if args.jobs > 1:  # one BLAS thread per process: rows share the cores
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    with ThreadPoolExecutor(args.jobs) as pool:
        done = dict(zip(names, pool.map(
            lambda n: run_row(ROWS[n], args, env), names)))
    order = [n for n in ROWS if n in done]  # table in the ROWS order
    results = [done[n][0] for n in order]
    pretrained = {n: done[n][1] for n in order}

    sims = last_layer_similarity(pretrained,
                                 osp.join(args.work_dir, 'patch_similarity'))
    for record in results:
        record['patch_sim_last'] = sims.get(record['row'])

    header = ('| row | top-1 | top-5 | last-layer patch sim | ADE mIoU '
              '| Cityscapes mIoU |')
    lines = [header, '|' + '---|' * 6]
    for r in results:
        lines.append(f"| {r['row']} | {fmt(r['top1'])} | {fmt(r['top5'])} | "
                     f"{fmt(r['patch_sim_last'])} | "
                     f"{fmt(r.get('ade_miou'))} | "
                     f"{fmt(r.get('cityscapes_miou'))} |")
    for r in results:
        if r.get('annotator_top1') is not None:
            lines.append(f"\n{r['row']}: annotator top-1 "
                         f"{fmt(r['annotator_top1'])}")
    table = '\n'.join(lines)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(f'\nmmvitreg demo ({time.time() - t0:.0f}s, '
          f'{"quick" if args.quick else "full"} schedules)\n{table}')
    return results


if __name__ == '__main__':
    main()
