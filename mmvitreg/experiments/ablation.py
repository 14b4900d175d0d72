"""Running the controlled ablation on the embedded digits data (the rows
and schedule are ``ablation_rows``).

One run = (row, seed):
``tools/train.py`` + ``tools/test.py`` (top-1, top-5) ->
``tools/analysis/patch_similarity.py`` (per-layer curve) ->
for rows with a ``transfer`` config, UperNet on the ADE-layout digit scenes
(``tools/train.py`` + ``tools/test.py``: mIoU). Token-labeling rows first
need the seed's annotator and its label store (trained once per seed,
shared by those rows). A finished run leaves ``result.json`` in its work dir
and is never repeated.
"""
import json
import os
import os.path as osp
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from . import tool_runs
from .ablation_rows import ANNOTATOR, AblationRow, Schedule
from .portable_numerics import machine
from .train_log import loss_per_epoch, plateau_exit_epoch, read_training_log


def run_dir(work_dir: str, row: str, seed: int) -> str:
    return osp.join(work_dir, 'runs', row, f'seed{seed}')


def load_result(work_dir: str, row: str, seed: int) -> Optional[dict]:
    path = osp.join(run_dir(work_dir, row, seed), 'result.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def import_runs(report: str, rows: Sequence[AblationRow],
                seeds: Sequence[int], work_dir: str,
                schedule: Schedule) -> List[Tuple[str, int]]:
    """Copy the finished runs of a committed report (its ``runs``) into
    ``work_dir`` as finished runs, so that an ablation on a fresh machine
    continues where that report stopped instead of starting over.

    Only (row, seed) pairs of this plan that ``work_dir`` does not have yet
    are copied; each keeps its own ``commit`` and ``machine`` and gains
    ``imported_from``. The report's schedule and each record's config and
    options must be this ablation's (else ``ValueError`` naming the file
    and the key). Returns the imported (row, seed) pairs.
    """
    with open(report) as f:
        data = json.load(f)
    for key in ('schedule', 'runs'):
        if key not in data:
            raise ValueError(f'{report}: no {key!r} (not an ablation report)')
    if data['schedule'] != vars(schedule):
        raise ValueError(f'{report}: schedule {data["schedule"]} is not this '
                         f'ablation\'s {vars(schedule)}')
    wanted = {(r.name, s): r for r in rows for s in seeds}
    imported = []
    for record in data['runs']:
        key = (record.get('row'), record.get('seed'))
        row = wanted.get(key)
        if row is None or load_result(work_dir, *key) is not None:
            continue
        for field, value in (('config', row.config),
                             ('options', list(row.options)),
                             ('transfer_options',
                              list(row.transfer_options))):
            if record.get(field, []) != value:
                raise ValueError(
                    f'{report}: runs[{key[0]} seed {key[1]}].{field} is '
                    f'{record.get(field)!r}, this ablation\'s is {value!r}')
        wd = run_dir(work_dir, *key)
        os.makedirs(wd, exist_ok=True)
        with open(osp.join(wd, 'result.json'), 'w') as f:
            json.dump(dict(record, imported_from=report), f, indent=2)
        imported.append(key)
    return imported


class Annotators:
    """One annotator and label store per seed, trained once (the first
    token-labeling run of that seed waits for it), reused when on disk."""

    def __init__(self, work_dir: str, env: dict, reuse: bool = True):
        self.work_dir, self.env, self.reuse = work_dir, env, reuse
        self._trained: set = set()  # seeds trained by this process
        self._locks: Dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def store(self, seed: int) -> Tuple[str, Optional[float]]:
        with self._guard:
            lock = self._locks.setdefault(seed, threading.Lock())
        with lock:
            wd = osp.join(self.work_dir, 'annotators', f'seed{seed}')
            done = osp.join(wd, 'annotator.json')
            if osp.isfile(done) and (self.reuse or seed in self._trained):
                with open(done) as f:
                    info = json.load(f)
                return info['store'], info['top1']
            store, top1 = tool_runs.token_label_store(
                ANNOTATOR, wd, [f'randomness.seed={seed}'], self.env,
                quiet=True)
            with open(done, 'w') as f:
                json.dump(dict(store=store, top1=top1), f)
            self._trained.add(seed)
            return store, top1


def transfer(config: str, checkpoint: str, work_dir: str,
             schedule: Schedule, seed: int, env: dict,
             quiet: bool = True, extra: Sequence[str] = ()) -> dict:
    """Fine-tune the UperNet ``config`` (plus ``extra`` options) from the
    pretrained ``checkpoint`` and test it; returns the test metrics
    (``mIoU``, ...)."""
    options = schedule.transfer_options() + [
        f'randomness.seed={seed}',
        f'model.backbone.init_cfg.checkpoint={checkpoint}', *extra]
    return tool_runs.train_and_test(config, work_dir, options, env, quiet)[1]


def run_one(row: AblationRow, seed: int, work_dir: str, schedule: Schedule,
            annotators: Annotators, env: dict) -> dict:
    """Pretrain, test, measure and (if the row transfers) fine-tune one
    (row, seed); writes and returns its record."""
    start = time.time()
    wd = run_dir(work_dir, row.name, seed)
    seed_option = f'randomness.seed={seed}'
    options = schedule.pretrain_options() + [seed_option, *row.options]
    record = dict(row=row.name, seed=seed, config=row.config,
                  options=list(row.options), commit=tool_runs.git_commit(),
                  machine=machine())
    if row.transfer_options:
        record['transfer_options'] = list(row.transfer_options)
    if row.annotator:
        store, record['annotator_top1'] = annotators.store(seed)
        options.append(tool_runs.store_option(store))
    ckpt, cls = tool_runs.train_and_test(row.config, osp.join(wd, 'pretrain'),
                                         options, env, quiet=True)
    record.update(top1=cls.get('accuracy/top1'), top5=cls.get('accuracy/top5'),
                  checkpoint=osp.relpath(ckpt, work_dir))
    losses = loss_per_epoch(read_training_log(osp.join(wd, 'pretrain')))
    record.update(loss_per_epoch=[round(v, 4) for v in losses],
                  plateau_exit_epoch=plateau_exit_epoch(losses))
    curves = tool_runs.patch_similarity(
        {row.name: (row.config, ckpt)}, osp.join(wd, 'patch_similarity'),
        options=row.options, env=env, quiet=True)
    record['patch_sim'] = curves[row.name]
    if row.transfer:
        seg = transfer(row.transfer, ckpt, osp.join(wd, 'ade'), schedule,
                       seed, env, extra=row.transfer_options)
        record.update(transfer_config=row.transfer, ade_miou=seg.get('mIoU'))
    record['seconds'] = round(time.time() - start, 1)
    with open(osp.join(wd, 'result.json'), 'w') as f:
        json.dump(record, f, indent=2)
    return record


def plan(rows: Sequence[AblationRow],
         seeds: Sequence[int]) -> List[Tuple[AblationRow, int]]:
    """Runs in seed-major order (an interrupted ablation has whole seeds),
    the longest chains (transfer, annotator) first within a seed so that
    parallel lanes end together."""
    order = sorted(rows, key=lambda r: (r.transfer is None, not r.annotator))
    return [(row, seed) for seed in seeds for row in order]


def fmt_seconds(seconds: float) -> str:
    return f'{int(seconds // 60)}m{int(seconds % 60):02d}s'


def run_ablation(rows: Sequence[AblationRow], seeds: Sequence[int],
                 work_dir: str, schedule: Schedule, jobs: int,
                 on_result=None, resume: bool = True) -> List[dict]:
    """Run every missing (row, seed), ``jobs`` at a time, one progress line
    each; returns all records (finished earlier or now) in plan order.
    ``on_result(records)`` is called after each new run (e.g. to rewrite
    the report); ``resume=False`` runs everything again."""
    env = tool_runs.single_thread_env()
    annotators = Annotators(work_dir, env, reuse=resume)
    todo = plan(rows, seeds)
    records: Dict[Tuple[str, int], dict] = {}
    for row, seed in todo if resume else ():
        found = load_result(work_dir, row.name, seed)
        if found is not None:
            records[(row.name, seed)] = found
    missing = [(r, s) for r, s in todo if (r.name, s) not in records]
    tool_runs.say(f'ablation: {len(todo)} runs, {len(records)} already '
                  f'done, {len(missing)} to run ({jobs} at a time)')
    start, lock = time.time(), threading.Lock()

    def work(item):
        row, seed = item
        record = run_one(row, seed, work_dir, schedule, annotators, env)
        with lock:
            records[(row.name, seed)] = record
            done = sum(1 for r, s in missing if (r.name, s) in records)
            elapsed = time.time() - start
            left = elapsed / done * (len(missing) - done)
            miou = record.get('ade_miou')
            tool_runs.say(
                f'[{done}/{len(missing)}] {row.name} seed {seed}: top-1 '
                f'{record["top1"]:.2f}, last-layer sim '
                f'{record["patch_sim"][-1]:.3f}'
                + (f', ADE mIoU {miou:.2f}' if miou is not None else '')
                + f' ({record["seconds"]:.0f}s; elapsed '
                f'{fmt_seconds(elapsed)}, ~{fmt_seconds(left)} left)')
            if on_result is not None:
                on_result([records[(r.name, s)] for r, s in todo
                           if (r.name, s) in records])

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        list(pool.map(work, missing))
    return [records[(r.name, s)] for r, s in todo]
