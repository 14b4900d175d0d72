"""Ranks die with their launcher.

When ``torchrun`` itself is killed (SIGKILL, OOM killer), its rank
processes are not told: they are re-parented and keep training and writing
checkpoints into the work dir, alongside the run a user then starts with
``--resume``. :func:`die_with_launcher`, called first thing in the tools'
``main()``, ties a rank started by ``torchrun`` (``TORCHELASTIC_RUN_ID`` in
its environment) to its parent:

* Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the rank
  the moment its parent ends. The parent may have died just before the
  call: the parent pid is read before and after it, and a change kills the
  rank at once. (A launcher dead even earlier took the rendezvous store it
  hosts with it: the rank then fails to join the process group.)
* elsewhere: a daemon thread compares ``os.getppid()`` with the launcher's
  pid every second and kills the rank when it changes.

SIGKILL, because a rank blocked in a collective (waiting for a peer that
just died with it) would not run a Python signal handler; nothing is left
half-written, since checkpoints are written to a temporary file and renamed
(``AtomicCheckpointHook``), and the work dir lock goes with the process.
A rank's DataLoader workers notice their own parent's death (PyTorch's
worker watchdog) within about 5 s. Single-process runs are not tied to
their parent shell.
"""
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: torchrun (torch.distributed.elastic) sets this in every rank
LAUNCHER_ENV = 'TORCHELASTIC_RUN_ID'
POLL_SECONDS = 1.0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _set_parent_death_signal() -> bool:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)``; whether it took effect."""
    libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
    args = [ctypes.c_ulong(int(signal.SIGKILL))] + [ctypes.c_ulong(0)] * 3
    return libc.prctl(PR_SET_PDEATHSIG, *args) == 0  # variadic: longs


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            _die()
        time.sleep(POLL_SECONDS)


def die_with_launcher() -> bool:
    """Under ``torchrun``: end this process when its launcher ends.
    Returns whether a tie was made (False outside ``torchrun``)."""
    if LAUNCHER_ENV not in os.environ:
        return False
    parent = os.getppid()
    if sys.platform.startswith('linux') and _set_parent_death_signal():
        if os.getppid() != parent:
            _die()  # the launcher died before the signal was set
        return True
    threading.Thread(target=_watch_parent, args=(parent, ), daemon=True,
                     name='die-with-launcher').start()
    return True
