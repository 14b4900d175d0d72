"""One training run per work dir: an exclusive OS lock on a file in it.

Two runs writing one work dir interleave checkpoints and rewrite each
other's ``last_checkpoint``; it happens when a ``--resume`` is started while
an earlier run is still alive (ranks orphaned by a killed launcher, a run
left in another terminal). ``tools/train.py`` therefore takes
``fcntl.flock(LOCK_EX | LOCK_NB)`` on ``<work_dir>/.mmvitreg.lock`` before
the Runner creates or writes anything, and holds it until the run ends;
rank 0 takes it for a multi-process run (the other ranks write nothing
there). A second run is refused at once, naming the holder's pid and host
(written in the file), without touching any file. The kernel releases the
lock when the holder's process ends, however it ends (SIGKILL, OOM
killer), so there is never a stale lock to delete by hand.

``flock`` is exclusive between processes of one machine, and across
machines only on file systems whose ``flock`` spans them (NFSv4, Lustre
with ``flock`` mounts; not every network file system).
"""
import fcntl
import functools
import os
import os.path as osp
import socket
import weakref
from typing import Optional

LOCK_NAME = '.mmvitreg.lock'
#: launchers' environment variables holding a process's global rank
RANK_VARS = ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK')


class WorkDirLockedError(RuntimeError):
    """Another live run holds the work dir."""


def launcher_rank() -> int:
    """This process's global rank from its launcher's environment (0 for a
    single process): known before any process group exists."""
    for name in RANK_VARS:
        if os.environ.get(name, '').isdigit():
            return int(os.environ[name])
    return 0


class WorkDirLock:
    """The held lock: an open descriptor of the lock file. Released by
    :meth:`release`, when the object is garbage, or when the process ends.

    A forked child (a DataLoader worker) shares the descriptor's open file,
    and with it the lock, which would outlive a SIGKILLed holder by the
    seconds its workers take to notice: children close their copy at fork
    (closing a copy, unlike ``LOCK_UN``, leaves the holder's lock)."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd, self.path = fd, path
        os.register_at_fork(after_in_child=functools.partial(
            _close_in_child, weakref.ref(self)))

    def release(self) -> None:
        """Close this process's descriptor: the lock ends with the last
        one (in a forked child: the child's copy only)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __del__(self) -> None:
        self.release()


def _close_in_child(lock_ref: 'weakref.ref[WorkDirLock]') -> None:
    lock = lock_ref()
    if lock is not None:
        lock.release()


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 256).decode(errors='replace').strip()
    return text or 'a process that has not yet written its pid'


def lock_work_dir(work_dir: str) -> Optional[WorkDirLock]:
    """Rank 0: take ``work_dir``'s lock (creating the folder and the file
    if absent) and write ``pid P host H`` into it; other ranks: ``None``.

    Raises:
        WorkDirLockedError: a live process holds it (the message names its
            pid and host); nothing was written.
    """
    if launcher_rank() != 0:
        return None
    path = osp.join(osp.abspath(work_dir), LOCK_NAME)
    if osp.isfile(path):  # open without creating or truncating anything
        fd = os.open(path, os.O_RDWR)
    else:
        os.makedirs(osp.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise WorkDirLockedError(
            f'work dir {work_dir} is in use by another run ({holder}; lock '
            f'file {path}). Wait for it to end or stop it; the lock goes '
            'with its process, however it ends.') from None
    os.ftruncate(fd, 0)
    os.write(fd, f'pid {os.getpid()} host {socket.gethostname()}\n'.encode())
    return WorkDirLock(fd, path)
