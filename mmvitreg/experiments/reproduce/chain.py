"""Run a row's stages in order: skip finished ones, resume interrupted
ones, hand each stage's output to the next.

Each stage has a folder under the work root, nested under the folder of
the stage it consumes (``work_dirs/reproduce/deit_s24/upernet_deit_s24_
ade20k``), so rows that share a stage (a pretraining feeding several
transfers) share its run. A stage is *finished* when its marker
``.reproduce_<kind>.json`` exists (written after the process succeeded,
with its output); a train stage whose folder has mmengine's
``last_checkpoint`` but no marker was *interrupted* and restarts with
``--resume`` (the latest checkpoint of its folder).
"""
import json
import os
import os.path as osp
import shlex
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from .rows import Row
from .stages import HANDOFFS, Launch, Stage, test_command, train_command
from .tiny import prepare_command, tiny_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


@dataclass
class StageRun:
    """What happened to one stage: its folder, command, output (a
    checkpoint, a converted file or a token-label store), test metrics."""
    stage: Stage
    config: str
    work_dir: str
    command: List[str] = field(default_factory=list)
    status: str = ''  # finished | resumed | ran | dry-run
    output: str = ''
    metrics: Dict[str, float] = field(default_factory=dict)


@dataclass
class Context:
    """Everything a row's run needs besides the row."""
    launch: Launch
    work_root: str
    tiny: bool = False
    data_root: str = 'data/digits'
    inputs: Dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    say: Callable[[str], None] = print


def marker_path(work_dir: str, kind: str) -> str:
    return osp.join(work_dir, f'.reproduce_{kind}.json')


def last_checkpoint(work_dir: str) -> Optional[str]:
    """mmengine's ``last_checkpoint`` marker's target, if any."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        return f.read().strip() or None


def _pending(work_dir: str) -> str:
    """The shell text of a checkpoint that does not exist yet (dry run)."""
    return f'$(cat {osp.join(work_dir, "last_checkpoint")})'


def _input(stage: Stage, ctx: Context) -> str:
    """The external file of a convert/generate stage (``--input``)."""
    (name, default), = stage.inputs
    path = ctx.inputs.get(name, default)
    if not ctx.dry_run and not osp.exists(osp.join(ROOT, path)):
        raise SystemExit(
            f'stage {stage.dir_name} needs the external file {name!r}: '
            f'{path} does not exist (give --input {name}=PATH)')
    return path


def _train(stage: Stage, prev: Optional[StageRun], run: StageRun,
           ctx: Context, job: str) -> Tuple[List[str], str]:
    options = list(tiny_options(stage, ctx.data_root)) if ctx.tiny else []
    options += list(stage.options)
    if stage.handoff in HANDOFFS:
        options.append(HANDOFFS[stage.handoff].format(prev.output))
    resume = None
    status = 'ran'
    if last_checkpoint(run.work_dir):  # interrupted: continue it
        resume, status = 'auto', 'resumed'
    elif stage.handoff == 'resume':
        resume = prev.output
    extra = ('--no-validate', ) if ctx.tiny else ()
    return train_command(ctx.launch, run.config, run.work_dir, resume,
                         options, job, extra), status


def _command(stage: Stage, prev: Optional[StageRun], run: StageRun,
             ctx: Context, job: str) -> Tuple[List[str], str]:
    """The stage's command line and whether it starts or resumes."""
    py = ctx.launch.python
    if stage.kind == 'prepare':
        return prepare_command(py, ctx.data_root), 'ran'
    if stage.kind == 'train':
        return _train(stage, prev, run, ctx, job)
    if stage.kind == 'test':
        options = (list(tiny_options(stage, ctx.data_root, run.config))
                   if ctx.tiny else [])
        return test_command(ctx.launch, run.config, prev.output,
                            run.work_dir, options, job), 'ran'
    if stage.kind == 'convert':
        dst = osp.join(run.work_dir, 'converted.pth')
        return [py, 'tools/convert_checkpoint.py', _input(stage, ctx), dst,
                *stage.options], 'ran'
    # generate: token labels (resumable by itself: done shards are kept)
    if stage.handoff == 'annotator':
        model = [prev.config, prev.output]
        data = ['--data-root', osp.join(ctx.data_root, 'imagenet')]
    else:
        model, data = [stage.config, _input(stage, ctx)], []
    return [py, 'tools/generate_token_labels.py', *model, *data,
            '--out', run.work_dir, *stage.options], 'ran'


def _output(stage: Stage, run: StageRun, ctx: Context) -> str:
    """Where a stage's result is, once it ran (or will be: dry run)."""
    if stage.kind == 'train':
        found = last_checkpoint(run.work_dir)
        if found is None and not ctx.dry_run:
            raise SystemExit(f'stage {stage.dir_name}: no checkpoint in '
                             f'{run.work_dir}')
        return found or _pending(run.work_dir)
    if stage.kind == 'convert':
        return osp.join(run.work_dir, 'converted.pth')
    if stage.kind == 'test':
        return ''
    return run.work_dir  # token-label store / data root


def shell_line(command: List[str], launch: Launch) -> str:
    """The command as one bash line: Slurm's ``GPUS=`` first; a pending
    checkpoint's ``$(cat ...)`` in double quotes so that bash expands it."""
    env = ' '.join(f'{k}={v}' for k, v in launch.env().items())
    words = [f'"{w}"' if '$(cat ' in w else shlex.quote(w) for w in command]
    return ' '.join(([env] if env else []) + words)


def _execute(command: List[str], log: str, env: Dict[str, str]) -> None:
    """One process in the checkout's root; its output to ``log``; failure
    stops the row with the log's tail."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    with open(log, 'a') as f:
        proc = subprocess.run(command, cwd=ROOT, stdout=f,
                              stderr=subprocess.STDOUT,
                              env=dict(os.environ, **env))
    if proc.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-30:])
        raise SystemExit(f'stage failed ({proc.returncode}): '
                         f'{shlex.join(command)}\n--- last lines of {log} '
                         f'---\n{tail}')


def _metrics(work_dir: str) -> Dict[str, float]:
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        return json.load(f)['metrics']


def run_row(row: Row, ctx: Context) -> List[StageRun]:
    """Plan and (unless ``ctx.dry_run``) run every stage of ``row``."""
    stages = list(row.tiny if ctx.tiny else row.stages)
    if ctx.tiny:
        stages.insert(0, Stage('prepare', name='data'))
    runs: List[StageRun] = []
    prev: Optional[StageRun] = None
    parent = ctx.work_root
    for index, stage in enumerate(stages, 1):
        if stage.kind == 'prepare':
            run = StageRun(stage, '', ctx.data_root)
        elif stage.kind == 'test':
            run = StageRun(stage, prev.config, prev.work_dir)
        else:
            run = StageRun(stage, stage.config, osp.join(parent,
                                                         stage.dir_name))
            parent = run.work_dir
        head = (f'[{row.name}] stage {index}/{len(stages)} {stage.kind} '
                f'{run.config or stage.dir_name}')
        marker = marker_path(run.work_dir, stage.kind)
        if stage.kind == 'prepare' and osp.isdir(
                osp.join(ctx.data_root, 'imagenet')):
            run.status, run.output = 'finished', ctx.data_root
        elif osp.isfile(marker):
            with open(marker) as f:
                done = json.load(f)
            run.status, run.output = 'finished', done['output']
            run.metrics, run.command = done['metrics'], done['command']
        else:
            job = f'{row.name}-{stage.dir_name}'
            run.command, run.status = _command(stage, prev, run, ctx, job)
            if ctx.dry_run:
                run.status = 'dry-run'
            else:
                ctx.say(f'{head}: {run.status} ...\n  '
                        f'{shell_line(run.command, ctx.launch)}')
                # prepare's folder must be empty for prepare_digits.py
                log_dir = (ctx.work_root if stage.kind == 'prepare' else
                           run.work_dir)
                _execute(run.command, osp.join(
                    log_dir, f'reproduce_{stage.kind}.log'),
                    ctx.launch.env())
            run.output = _output(stage, run, ctx)
            if not ctx.dry_run and stage.kind != 'prepare':
                if stage.kind == 'test':
                    run.metrics = _metrics(run.work_dir)
                with open(marker, 'w') as f:
                    json.dump(dict(output=run.output, metrics=run.metrics,
                                   command=run.command), f, indent=1)
        if run.status == 'finished':
            ctx.say(f'{head}: finished before, skipped ({run.output or "-"})')
        elif ctx.dry_run:
            ctx.say(f'{head}:\n  {shell_line(run.command, ctx.launch)}')
        runs.append(run)
        prev = run if stage.kind != 'prepare' else prev
    return runs
