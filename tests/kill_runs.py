"""Helpers for the SIGKILL tests: demo configs with the test-only
``SigkillHook`` (``tests/sigkill_hook.py``), trained a few
iterations through ``tools/train.py`` in a subprocess."""
import os.path as osp
import signal
from typing import List, Optional

import torch
from tool_runner import ROOT, data_options, run_tool

HERE = osp.dirname(osp.abspath(__file__))


def kill_config(tmp_path, demo_config: str) -> str:
    """A config: ``demo_config`` plus an (idle) ``SigkillHook``, armed
    with ``custom_hooks.0.<when>=...`` options."""
    path = tmp_path / ('kill_' + osp.basename(demo_config))
    path.write_text(
        f'_base_ = {osp.join(ROOT, demo_config)!r}\n'
        "custom_imports = dict(imports=['mmvitreg', 'sigkill_hook'],\n"
        '                      allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='SigkillHook')]\n")
    return str(path)


def train(config: str, work_dir: str, options: List[str],
          resume: Optional[str] = None, kill: Optional[str] = None):
    """Run tools/train.py; ``kill='after_iter=5'`` arms the hook;
    ``resume=''`` passes a bare ``--resume``."""
    args = ['tools/train.py', config, '--work-dir', work_dir,
            '--no-validate']
    if resume is not None:
        args += ['--resume'] + ([resume] if resume else [])
    opts = list(options)
    if kill:
        opts.append(f'custom_hooks.0.{kill}')
    return run_tool(args + ['--cfg-options', *opts], timeout=300,
                    env={'PYTHONPATH': HERE, 'OMP_NUM_THREADS': '1'})


def assert_sigkilled(proc) -> None:
    assert proc.returncode == -signal.SIGKILL, (
        proc.returncode, proc.stderr[-3000:])


def assert_ok(proc) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


def load(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)


def read_last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def digits_options(root: str, layout: str, train_size: int,
                   batch_size: int, workers: int) -> List[str]:
    """Tiny deterministic training data options for a demo config."""
    return [
        *data_options(root, layout, train_size=train_size),
        f'train_dataloader.batch_size={batch_size}',
        f'train_dataloader.num_workers={workers}',
        'randomness.seed=0', 'randomness.deterministic=True',
    ]
