"""The controlled ablation of every objective on the embedded digits data.

Each row is one recipe and names its control: the row it differs from in
exactly the thing the row names (a config file that inherits the control's
and adds one piece, or ``--cfg-options`` on the control's config). Every
row runs the same shortened schedule (``Schedule``) for every seed; seeds
change the data order and the initialisation (``randomness.seed``).

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
import os.path as osp
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from . import tool_runs
from .portable_numerics import machine
from .train_log import loss_per_epoch, plateau_exit_epoch, read_training_log

DEMO = 'configs/demo/'
VIT = DEMO + 'vit_tiny_digits.py'
PATCHMIX = DEMO + 'vit_tiny_digits_patchmix.py'
DIVERSE = DEMO + 'vit_tiny_digits_diverse.py'
TOKEN_LABELING = DEMO + 'vit_tiny_digits_token_labeling.py'
DEIT3 = DEMO + 'deit3_tiny_digits.py'
DEIT3_CE = DEMO + 'deit3_tiny_digits_ce.py'
ANNOTATOR = DEMO + 'resnet_tiny_digits_annotator.py'
ADE_VIT = DEMO + 'upernet_vit_tiny_digits_ade20k.py'
ADE_DEIT3 = DEMO + 'upernet_deit3_tiny_digits_ade20k.py'


def diverse_loss(key: str, loss_type: str, weight: float) -> Tuple[str, ...]:
    """``--cfg-options`` switching one patch loss on (the classifier becomes
    ``DiverseImageClassifier``, which without losses is ImageClassifier)."""
    return ('model.type=DiverseImageClassifier',
            f'model.{key}.type={loss_type}',
            f'model.{key}.loss_weight={weight}')


@dataclass(frozen=True)
class AblationRow:
    """One recipe: ``config`` + ``options``; ``control``: the row it
    differs from in exactly what ``note`` names."""
    name: str
    config: str
    control: Optional[str]
    note: str
    options: Tuple[str, ...] = ()
    transfer: Optional[str] = None  # ADE-layout UperNet config
    annotator: bool = False  # needs the seed's token-label store


ROWS: Dict[str, AblationRow] = {row.name: row for row in [
    AblationRow('baseline', VIT, None,
                'DeiT recipe shrunk to digits, CE + smoothing, no batch '
                'augment', transfer=ADE_VIT),
    AblationRow('patch_mixing', PATCHMIX, 'baseline',
                '+ PatchMixing augment (CutMix on the patch grid), no loss',
                transfer=ADE_VIT),
    AblationRow('cosine_0.03', VIT, 'baseline', '+ patch cosine loss 0.03',
                diverse_loss('cosine_loss', 'PatchCosineLoss', 0.03)),
    AblationRow('cosine_0.1', VIT, 'baseline', '+ patch cosine loss 0.1',
                diverse_loss('cosine_loss', 'PatchCosineLoss', 0.1),
                transfer=ADE_VIT),
    AblationRow('cosine_0.3', VIT, 'baseline', '+ patch cosine loss 0.3',
                diverse_loss('cosine_loss', 'PatchCosineLoss', 0.3)),
    AblationRow('contrastive', VIT, 'baseline',
                '+ patch contrastive loss 1.0',
                diverse_loss('contrastive_loss', 'PatchContrastiveLoss',
                             1.0)),
    AblationRow('mixing', PATCHMIX, 'patch_mixing',
                '+ patch mixing loss 1.0 (over the PatchMixing control)',
                diverse_loss('mixing_loss', 'PatchMixingLoss', 1.0)),
    AblationRow('diverse', DIVERSE, 'patch_mixing',
                '+ cosine 0.1, contrastive 1.0, mixing 1.0 (full-config '
                'weights) over the PatchMixing control', transfer=ADE_VIT),
    AblationRow('token_labeling', TOKEN_LABELING, 'baseline',
                'token labeling recipe: dense annotator labels + MixToken',
                transfer=ADE_VIT, annotator=True),
    AblationRow('token_labeling_no_mixtoken', TOKEN_LABELING,
                'token_labeling', 'token labeling without MixToken',
                ('model.mix_token=None', ), annotator=True),
    # deit3_ce pretrains only: three more 1000-iteration transfers did not
    # fit the 90-minute budget, so deit3's mIoU has no paired control
    AblationRow('deit3_ce', DEIT3_CE, None,
                'DeiT III recipe with CE + smoothing 0.1 instead of BCE'),
    AblationRow('deit3', DEIT3, 'deit3_ce',
                'DeiT III recipe (BCE) over its CE control',
                transfer=ADE_DEIT3),
]}


WARMUP_ITERS = 30  # the demo UperNet configs' linear warm-up


@dataclass(frozen=True)
class Schedule:
    """The ablation's schedule, the same for every row and seed.

    Pretraining is shortened from the demo configs' 25 epochs to 15 (all
    rows x 3 seeds then fit in about 90 minutes on 2 cores); the transfer
    keeps the demo configs' 1000 iterations: at 500, the baseline was still
    on the fine-tuning plateau (14.1 mIoU, background only), so the column
    would measure nothing.
    """
    epochs: int = 15
    seg_iters: int = 1000

    def __post_init__(self):
        if self.epochs < 2:  # the cosine schedule starts after epoch 1
            raise ValueError(f'epochs must be >= 2, got {self.epochs}')
        if self.seg_iters <= WARMUP_ITERS:
            raise ValueError(f'seg_iters must exceed the {WARMUP_ITERS} '
                             f'warm-up iterations, got {self.seg_iters}')

    def pretrain_options(self) -> List[str]:
        e = self.epochs
        return [f'train_cfg.max_epochs={e}', f'train_cfg.val_interval={e}',
                f'default_hooks.checkpoint.interval={e}']

    def transfer_options(self) -> List[str]:
        n = self.seg_iters  # param_scheduler.1: the demo configs' PolyLR
        return [f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
                f'param_scheduler.1.end={n}',
                f'default_hooks.checkpoint.interval={n}']


def check_rows(names: Sequence[str]) -> List[AblationRow]:
    """The named rows; an unknown name is an error listing the known ones."""
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise ValueError(f'unknown ablation rows {unknown}; choose among '
                         f'{list(ROWS)}')
    return [ROWS[n] for n in names]


def run_dir(work_dir: str, row: str, seed: int) -> str:
    return osp.join(work_dir, 'runs', row, f'seed{seed}')


def load_result(work_dir: str, row: str, seed: int) -> Optional[dict]:
    path = osp.join(run_dir(work_dir, row, seed), 'result.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


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
             quiet: bool = True) -> dict:
    """Fine-tune the UperNet ``config`` from the pretrained ``checkpoint``
    and test it; returns the test metrics (``mIoU``, ...)."""
    options = schedule.transfer_options() + [
        f'randomness.seed={seed}',
        f'model.backbone.init_cfg.checkpoint={checkpoint}']
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
                       seed, env)
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
