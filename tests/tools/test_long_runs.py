"""Long-run guarantees of issue 22: one training run per work dir (an OS
lock the kernel releases with its holder), and ranks that die with their
launcher (parent-death signal), each checked on real processes that are
paused at a known point (``tests/pause_hook.py``) and SIGKILLed.
"""
import importlib.util
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from kill_runs import digits_options
from tool_runner import CLS_CONFIG, ROOT, data_options, dist_train, snapshot

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
    """The pid at the start of ``marker``, once it is written."""
    _wait_for(lambda: osp.isfile(marker), 300, f'{marker} written')
    with open(marker) as f:
        return int(f.read().split()[0])


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


FORKING_HOLDER = '''
import importlib.util, os, signal, sys, time
spec = importlib.util.spec_from_file_location('lock', sys.argv[1])
lock = importlib.util.module_from_spec(spec); spec.loader.exec_module(lock)
held = lock.lock_work_dir(sys.argv[2])
if os.fork() == 0:  # a DataLoader worker, say: outlives its parent
    time.sleep(20)
    os._exit(0)
os.kill(os.getpid(), signal.SIGKILL)
'''


def test_lock_goes_with_its_holder_not_its_forked_children(tmp_path):
    """A holder SIGKILLed while a forked child of it lives: the lock is
    free at once (a child's inherited copy would keep it)."""
    work_dir = str(tmp_path / 'work')
    env = {k: v for k, v in os.environ.items() if k not in
           ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK')}
    holder = subprocess.run(
        [sys.executable, '-c', FORKING_HOLDER,
         osp.join(ROOT, 'mmvitreg', 'cli', 'work_dir_lock.py'), work_dir],
        env=env, timeout=60)
    assert holder.returncode == -signal.SIGKILL
    lock = _load_module('work_dir_lock')
    lock.lock_work_dir(work_dir).release()  # not held by the live child


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
            'train_cfg.max_epochs=2',
            'default_hooks.checkpoint.by_epoch=False',
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


# -- ranks die with their launcher ----------------------------------------
RANK_SCRIPT = '''
import ctypes, importlib.util, os, sys, threading, time
spec = importlib.util.spec_from_file_location('pw', sys.argv[1])
pw = importlib.util.module_from_spec(spec); spec.loader.exec_module(pw)
if sys.argv[3] == 'watchdog':
    sys.platform = 'darwin'  # the non-Linux path: a thread polls getppid
pw.die_with_launcher()
signal = ctypes.c_int(0)  # PR_GET_PDEATHSIG = 2: what the kernel will send
ctypes.CDLL(None).prctl(2, ctypes.byref(signal), 0, 0, 0)
watchdog = any(t.name == 'die-with-launcher' for t in threading.enumerate())
with open(sys.argv[2] + '.tmp', 'w') as f:
    f.write(f'{os.getpid()} {signal.value} {int(watchdog)}')
os.replace(sys.argv[2] + '.tmp', sys.argv[2])
time.sleep(600)
'''
LAUNCHER_SCRIPT = '''
import subprocess, sys, time
subprocess.Popen([sys.executable, '-c', sys.argv[1], *sys.argv[2:]])
time.sleep(600)
'''


@pytest.mark.parametrize('mode,tied,how', [
    ('prctl', True, (signal.SIGKILL, 0)), ('watchdog', True, (0, 1)),
    ('untied', False, (0, 0))])
def test_rank_ends_with_its_launcher(tmp_path, mode, tied, how):
    """A stand-in launcher starts a rank and is SIGKILLed: a rank under
    ``torchrun`` (``TORCHELASTIC_RUN_ID``) is gone within 10 s, by the
    parent-death signal or the watchdog; a plain process (the control) is
    not tied to its parent."""
    env = dict(os.environ)
    env.pop('TORCHELASTIC_RUN_ID', None)
    if tied:
        env['TORCHELASTIC_RUN_ID'] = 'test'
    pid_file = str(tmp_path / 'rank.pid')
    launcher = subprocess.Popen(
        [sys.executable, '-c', LAUNCHER_SCRIPT, RANK_SCRIPT,
         osp.join(ROOT, 'mmvitreg', 'cli', 'parent_watch.py'), pid_file,
         mode], env=env)
    rank = None
    try:
        rank = _read_pid(pid_file)
        with open(pid_file) as f:  # (parent-death signal, watchdog thread)
            assert tuple(int(v) for v in f.read().split()[1:]) == how
        launcher.kill()
        launcher.wait()
        if tied:
            _wait_for(lambda: not _alive(rank), GONE_WITHIN,
                      f'rank {rank} gone after its launcher')
        else:
            time.sleep(2)
            assert _alive(rank)
    finally:
        launcher.kill()
        launcher.wait()
        if rank is not None and _alive(rank):
            os.kill(rank, signal.SIGKILL)


# 64 images / (2 processes x 16) = 2 iterations an epoch, as the
# multi-rank resume test; each rank its own seed
DIST_OPTIONS = ['train_cfg.max_epochs=2', 'train_dataloader.batch_size=16',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'default_hooks.checkpoint.interval=1',
                'default_hooks.checkpoint.max_keep_ckpts=-1',
                'randomness.seed=0', 'randomness.diff_rank_seed=True']


def test_sigkilled_torchrun_takes_its_ranks_and_resume_is_exact(
        digits_root, tmp_path):
    """``torchrun`` with 2 gloo ranks, paused after the epoch-1
    checkpoint, is SIGKILLed: both ranks are gone within 10 s, and a
    ``--resume`` then ends with the weights of an uninterrupted run."""
    opts = [*DIST_OPTIONS,
            *data_options(digits_root, 'imagenet', train_size=64)]
    straight = str(tmp_path / 'straight')
    rc, log = dist_train(CLS_CONFIG, '--work-dir', straight,
                         '--no-validate', '--cfg-options', *opts)
    assert rc == 0, log[-4000:]

    work_dir = str(tmp_path / 'killed')
    markers = tmp_path / 'markers'
    markers.mkdir()
    torchrun = subprocess.Popen(
        ['bash', 'tools/dist_train.sh',
         _pause_config(tmp_path, markers, after_epoch=1), '2',
         '--work-dir', work_dir, '--no-validate', '--cfg-options', *opts],
        cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    ranks = []
    try:
        ranks = [_read_pid(str(markers / f'paused_rank{r}'))
                 for r in (0, 1)]
        torchrun.send_signal(signal.SIGKILL)  # torchrun alone
        torchrun.wait()
        _wait_for(lambda: not any(_alive(p) for p in ranks), GONE_WITHIN,
                  f'ranks {ranks} gone after torchrun was killed')
    finally:
        torchrun.kill()
        torchrun.wait()
        for pid in ranks:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))

    rc, log = dist_train(CLS_CONFIG, '--work-dir', work_dir, '--resume',
                         '--no-validate', '--cfg-options', *opts)
    assert rc == 0, log[-4000:]
    assert 'resumed epoch: 1, iter: 2' in log
    want = torch.load(osp.join(straight, 'epoch_2.pth'), map_location='cpu',
                      weights_only=False)['state_dict']
    got = torch.load(osp.join(work_dir, 'epoch_2.pth'), map_location='cpu',
                     weights_only=False)['state_dict']
    assert want.keys() == got.keys()
    assert all(torch.equal(want[k], got[k]) for k in want)
