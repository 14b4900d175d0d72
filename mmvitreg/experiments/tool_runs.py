"""Run the suite's tools as a user does (one subprocess per command), for
the main job (``tools/demo.py``) and the ablation (``benchmarks/ablation.py``).

Every step is a command line a user could type in the checkout's root:
``tools/train.py``, ``tools/test.py``, ``tools/generate_token_labels.py``,
``tools/analysis/patch_similarity.py``; each one's output goes to a log file
next to its work dir, and a failure stops with the log's last lines.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

from .portable_numerics import portable_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIGITS_IMAGENET = 'data/digits/imagenet'


def say(line: str) -> None:
    """One whole line to stdout (runs report from parallel threads)."""
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def single_thread_env() -> Dict[str, str]:
    """Environment for runs sharing the cores: one thread each, and AVX2
    kernels in ATen, oneDNN and MKL, so that the numbers depend neither on
    the machine's load nor on which x86 CPU (with AVX2) ran them
    (``portable_numerics``)."""
    return portable_env()


def git_commit() -> str:
    """HEAD of the checkout, ``+dirty`` when tracked files changed."""
    def git(*args):
        return subprocess.run(['git', *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    commit = git('rev-parse', 'HEAD') or 'unknown'
    return commit + ('+dirty' if git('status', '--porcelain', '-uno') else '')


def run(cmd: List[str], log: str, env: Optional[dict] = None,
        quiet: bool = False) -> None:
    """Run one tool in the checkout's root, its output to ``log``; fail with
    the log's tail."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=f,
                              stderr=subprocess.STDOUT, env=env)
    if not quiet:
        say(f'  {" ".join(cmd[1:3])} ({osp.relpath(osp.dirname(log))}) ... '
            f'{time.time() - start:.0f}s')
    if proc.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-30:])
        raise SystemExit(f'command failed ({proc.returncode}): {" ".join(cmd)}'
                         f'\n--- last lines of {log} ---\n{tail}')


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint named by mmengine's ``last_checkpoint`` marker."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        raise SystemExit(f'no checkpoint written in {work_dir}')
    with open(marker) as f:
        return f.read().strip()


def train_and_test(config: str, work_dir: str, options: Sequence[str],
                   env: Optional[dict] = None,
                   quiet: bool = False) -> Tuple[str, dict]:
    """``tools/train.py`` then ``tools/test.py`` on the final weights;
    returns ``(checkpoint, metrics)``."""
    py = sys.executable
    opts = ['--cfg-options', *options] if options else []
    # tools/test.py evaluates the final weights: no second pass in training
    run([py, 'tools/train.py', config, '--work-dir', work_dir,
         '--no-validate', *opts], osp.join(work_dir, 'train.log'), env, quiet)
    ckpt = last_checkpoint(work_dir)
    run([py, 'tools/test.py', config, ckpt, '--work-dir', work_dir, *opts],
        osp.join(work_dir, 'test.log'), env, quiet)
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        return ckpt, json.load(f)['metrics']


def token_label_store(annotator: str, work_dir: str, options: Sequence[str],
                      env: Optional[dict] = None,
                      quiet: bool = False) -> Tuple[str, Optional[float]]:
    """Train the annotator, label the digits training split; returns
    ``(store, annotator top-1)``."""
    ckpt, metrics = train_and_test(annotator, osp.join(work_dir, 'annotator'),
                                   options, env, quiet)
    store = osp.join(work_dir, 'token_labels')
    run([sys.executable, 'tools/generate_token_labels.py', annotator, ckpt,
         '--data-root', DIGITS_IMAGENET, '--out', store, '--topk', '5'],
        osp.join(work_dir, 'generate_token_labels.log'), env, quiet)
    return store, metrics.get('accuracy/top1')


def store_option(store: str) -> str:
    """``--cfg-options`` item pointing the token-labeling demo config's
    ``LoadTokenLabel`` (pipeline step 1) at ``store``."""
    return f'train_dataloader.dataset.pipeline.1.store_root={store}'


def patch_similarity(runs: Dict[str, Tuple[str, str]], out_dir: str,
                     num_images: int = 128,
                     options: Sequence[str] = (),
                     env: Optional[dict] = None,
                     quiet: bool = False) -> Dict[str, List[float]]:
    """Per-layer patch similarity curves of ``{label: (config, ckpt)}`` with
    ``tools/analysis/patch_similarity.py`` (one CSV/JSON/plot in
    ``out_dir``; ``options``: ``--cfg-options`` for every config); returns
    ``{label: [layer 1 .. L]}``."""
    if not runs:
        return {}
    cmd = [sys.executable, 'tools/analysis/patch_similarity.py']
    for config, ckpt in runs.values():
        cmd += [config, ckpt]
    cmd += ['--out', out_dir, '--num-images', str(num_images), '--labels',
            *runs]
    if options:
        cmd += ['--cfg-options', *options]
    run(cmd, osp.join(out_dir, 'patch_similarity.log'), env, quiet)
    with open(osp.join(out_dir, 'patch_similarity.json')) as f:
        results = json.load(f)['results']
    return {r['label']: [float(v) for v in r['similarity']] for r in results}
