"""Long-run guarantees of issue 22: one training run per work dir (an OS
lock the kernel releases with its holder), and ranks that die with their
launcher (parent-death signal), each checked on real processes that are
paused at a known point (``tests/pause_hook.py``) and SIGKILLed.
"""
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys
import time

import pytest

from kill_runs import digits_options
from tool_runner import CLS_CONFIG, ROOT, snapshot

HERE = osp.dirname(osp.dirname(osp.abspath(__file__)))  # tests/
GONE_WITHIN = 10.0  # seconds


def _load_module(name):
    """``mmvitreg/cli/<name>.py`` without importing the package (torch)."""
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'mmvitreg', 'cli', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left for init to reap does not)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def _wait_for(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f'timed out after {timeout} s: {what}')
        time.sleep(0.1)
    return time.monotonic() - start


def _pause_config(tmp_path, marker_dir, **when) -> str:
    """``CLS_CONFIG`` plus a ``PauseHook`` (``after_iter=k`` or
    ``after_epoch=k``)."""
    args = ', '.join(f'{k}={v!r}' for k, v in when.items())
    path = tmp_path / 'paused_vit.py'
    path.write_text(
        f'_base_ = {osp.join(ROOT, CLS_CONFIG)!r}\n'
        "custom_imports = dict(imports=['mmvitreg', 'pause_hook'],\n"
        '                      allow_failed_imports=False)\n'
        'custom_hooks = [dict(type="PauseHook", '
        f'marker_dir={str(marker_dir)!r}, {args})]\n')
    return str(path)


def _read_pid(marker: str) -> int:
    _wait_for(lambda: osp.isfile(marker), 300, f'{marker} written')
    with open(marker) as f:
        return int(f.read())


def _env():
    env = dict(os.environ, PYTHONPATH=HERE, OMP_NUM_THREADS='1',
               PYTHON=sys.executable)
    env.pop('PORT', None)  # torchrun's rendezvous binds a free port
    return env


# -- the work dir lock ----------------------------------------------------
def test_lock_refuses_a_second_holder_naming_it_and_writes_nothing(
        tmp_path, monkeypatch):
    lock = _load_module('work_dir_lock')
    for var in lock.RANK_VARS:
        monkeypatch.delenv(var, raising=False)
    work_dir = str(tmp_path / 'work')
    held = lock.lock_work_dir(work_dir)
    path = osp.join(work_dir, lock.LOCK_NAME)
    before = (os.stat(path).st_mtime_ns, snapshot(work_dir))
    with pytest.raises(lock.WorkDirLockedError) as info:
        lock.lock_work_dir(work_dir)  # a second open file: refused
    assert f'pid {os.getpid()} host {socket.gethostname()}' in str(
        info.value)
    assert (os.stat(path).st_mtime_ns, snapshot(work_dir)) == before
    monkeypatch.setenv('RANK', '1')  # other ranks take no lock
    assert lock.lock_work_dir(work_dir) is None
    monkeypatch.delenv('RANK')
    held.release()
    lock.lock_work_dir(work_dir).release()  # free again


def test_second_run_refused_then_resume_after_sigkill(digits_root,
                                                      tmp_path):
    """A paused run holds the work dir; a second ``tools/train.py`` there
    fails naming its pid and host and changes no file; once the first is
    SIGKILLed (no release code runs), ``--resume`` proceeds."""
    work_dir = str(tmp_path / 'work')
    markers = tmp_path / 'markers'
    markers.mkdir()
    # 48 images, batch 8: 6 iterations an epoch, checkpoint at iteration 4
    opts = [*digits_options(digits_root, 'imagenet', 48, 8, 0),
            'train_cfg.max_epochs=2', 'default_hooks.checkpoint.by_epoch=False',
            'default_hooks.checkpoint.interval=4']
    train = [sys.executable, 'tools/train.py']
    first = subprocess.Popen(
        [*train, _pause_config(tmp_path, markers, after_iter=4),
         '--work-dir', work_dir, '--no-validate', '--cfg-options', *opts],
        cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        assert _read_pid(str(markers / 'paused_rank0')) == first.pid
        before = snapshot(work_dir)
        second = subprocess.run(
            [*train, CLS_CONFIG, '--work-dir', work_dir, '--resume',
             '--no-validate', '--cfg-options', *opts],
            cwd=ROOT, env=_env(), capture_output=True, text=True,
            timeout=300)
        assert second.returncode != 0
        assert 'WorkDirLockedError' in second.stderr
        assert (f'pid {first.pid} host {socket.gethostname()}'
                in second.stderr), second.stderr[-2000:]
        assert snapshot(work_dir) == before  # not a file touched
    finally:
        first.kill()
        first.wait()
    resumed = subprocess.run(
        [*train, CLS_CONFIG, '--work-dir', work_dir, '--resume',
         '--no-validate', '--cfg-options', *opts],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 4' in resumed.stdout + resumed.stderr
    assert osp.isfile(osp.join(work_dir, 'iter_12.pth'))
