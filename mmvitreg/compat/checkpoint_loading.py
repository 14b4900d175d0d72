"""Safe checkpoint loading for mmengine 0.10.7 under torch's ``weights_only``.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and mmengine
0.10.7 calls ``torch.load`` without saying otherwise, so resuming from its own
training checkpoints fails on ``HistoryBuffer`` and numpy objects kept in the
message hub. Rather than switching safety off, :func:`safe_torch_load` runs
torch's weights-only unpickler (its own allow-list: tensors, storages,
``OrderedDict``, ..., see :func:`torch_admitted_names`) admitting, by their
pickled names, exactly the other globals an mmengine checkpoint holds, each
mapped to a callable that rebuilds only those objects:

* ``mmengine.logging.history_buffer.HistoryBuffer``: message-hub scalars,
  rebuilt as a ``HistoryBuffer`` whose pickled statistics methods must be
  mmengine's own ``min``/``max``/``current``/``mean`` (its
  ``__setstate__`` copies them into the class-wide registry);
* ``builtins.getattr``: only ``getattr(HistoryBuffer, 'min'|'max'|
  'current'|'mean')``, the way ``HistoryBuffer`` pickles those methods;
  any other call is refused, so no attribute chain reaches a module, a
  builtin or a function's globals;
* numpy arrays, dtypes and scalars: ``numpy.ndarray``, ``numpy.dtype``
  and its concrete classes ``numpy.dtypes.*DType`` (a pickled dtype is
  built through its class), ``_reconstruct`` and ``scalar`` of
  ``numpy._core.multiarray`` (numpy 2) and ``numpy.core.multiarray``
  (numpy 1, the name in older checkpoints).

Any other pickled global is refused with :class:`UntrustedCheckpointError`,
which names the file and the globals (zip and raw/legacy pickle files
alike). To load a file you trust anyway, set the environment variable
``MMVITREG_TRUST_CHECKPOINTS=1`` (``tools/train.py`` and ``tools/test.py``
also take ``--trust-checkpoint``), which loads it with
``weights_only=False``.

:func:`install_safe_checkpoint_loader` registers the loader for local paths
with mmengine's ``CheckpointLoader`` (resume, ``load_from``, ``init_cfg``
``Pretrained``, ``tools/test.py`` all go through it).
"""
import _compat_pickle
import os
import os.path as osp
import pickle
import pickletools
import threading
import zipfile
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from torch._utils import IMPORT_MAPPING, NAME_MAPPING

TRUST_ENV_VAR = 'MMVITREG_TRUST_CHECKPOINTS'

#: the statistics methods HistoryBuffer pickles (mmengine's defaults)
HISTORY_STATISTICS = ('min', 'max', 'current', 'mean')

_refused_calls = threading.local()  # what the stand-ins refused, per load


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects outside the allow-list."""


def _refuse(what: str) -> None:
    calls = getattr(_refused_calls, 'calls', None)
    if calls is not None:
        calls.append(what)
    raise pickle.UnpicklingError(f'refused {what}')


def _own_statistic(name: str) -> Optional[Callable]:
    return (getattr(HistoryBuffer, name)
            if name in HISTORY_STATISTICS else None)


class CheckedHistoryBuffer(HistoryBuffer):
    """Unpickled for ``HistoryBuffer``: admits only mmengine's own
    statistics methods in the state, then becomes a plain
    ``HistoryBuffer`` (so the next save pickles mmengine's name)."""

    def __setstate__(self, state: Dict[str, Any]) -> None:
        methods = state.get('statistics_methods', {})
        bad = sorted(str(name) for name, method in methods.items()
                     if _own_statistic(name) is not method)
        if bad:
            _refuse('HistoryBuffer statistics_methods '
                    f'{", ".join(bad)} (only mmengine\'s '
                    f'{"/".join(HISTORY_STATISTICS)})')
        self.__class__ = HistoryBuffer
        HistoryBuffer.__setstate__(self, state)


def history_statistic(owner: Any, name: Any) -> Callable:
    """Stands in for ``builtins.getattr``: ``getattr(HistoryBuffer, 'mean')``
    and the three other statistics, nothing else."""
    method = _own_statistic(name) if isinstance(name, str) else None
    if owner in (HistoryBuffer, CheckedHistoryBuffer) and method is not None:
        return method
    owner_name = ('HistoryBuffer' if owner is CheckedHistoryBuffer else
                  getattr(owner, '__qualname__', type(owner).__qualname__))
    _refuse(f'builtins.getattr({owner_name}, {name!r})')


def _numpy_globals() -> List[Tuple[Callable, str]]:
    core = getattr(np, '_core', None)
    multiarray = core.multiarray if core is not None else np.core.multiarray
    # dtype instances are BUILT with their concrete numpy.dtypes class
    pairs = [(np.ndarray, 'numpy.ndarray'), (np.dtype, 'numpy.dtype')] + [
        (getattr(np.dtypes, name), f'numpy.dtypes.{name}')
        for name in dir(np.dtypes) if name.endswith('DType')]
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        pairs += [(multiarray._reconstruct, f'{module}._reconstruct'),
                  (multiarray.scalar, f'{module}.scalar')]
    return pairs


def mmengine_checkpoint_globals() -> List[Tuple[Callable, str]]:
    """``(callable, pickled name)`` for every non-torch global an mmengine
    0.10.x / mmpretrain / mmseg 1.x checkpoint holds (torch's
    ``safe_globals`` form): what each name is rebuilt with."""
    return [
        (CheckedHistoryBuffer,
         'mmengine.logging.history_buffer.HistoryBuffer'),
        (history_statistic, 'builtins.getattr'),
    ] + _numpy_globals()


def torch_admitted_names() -> Set[str]:
    """The globals torch's weights-only unpickler admits by itself (its
    built-in set, and what torch registers on import: exception classes,
    ``traceback`` summaries, DTensor pieces) or that this process added
    with ``torch.serialization.add_safe_globals``."""
    from torch._weights_only_unpickler import (
        _get_allowed_globals,
        _get_user_allowed_globals,
    )
    return set(_get_allowed_globals()) | set(_get_user_allowed_globals())


def admitted_global_names() -> Set[str]:
    """Every pickled global name the safe loader admits:
    :func:`torch_admitted_names` and :func:`mmengine_checkpoint_globals`."""
    return torch_admitted_names() | {
        name for _, name in mmengine_checkpoint_globals()}


def checkpoints_trusted() -> bool:
    """Whether the user opted out of safe loading
    (``MMVITREG_TRUST_CHECKPOINTS``)."""
    return os.environ.get(TRUST_ENV_VAR, '').lower() in ('1', 'true', 'yes')


def _global_names(module: str, name: str) -> Tuple[str, str]:
    """``module.name`` as torch's unpickler sees it and as Python 3 calls
    it (protocol 2 pickles write Python 2 names: ``commands.check_call``
    is ``subprocess.check_call``; torch maps only a few back)."""
    def mapped(names: Dict, modules: Dict) -> str:
        if (module, name) in names:
            return '.'.join(names[(module, name)])
        return f'{modules.get(module, module)}.{name}'
    return (mapped(NAME_MAPPING, IMPORT_MAPPING),
            mapped(_compat_pickle.NAME_MAPPING, _compat_pickle.IMPORT_MAPPING))


def _globals_in_pickles(data: bytes) -> Set[Tuple[str, str]]:
    """The globals (see :func:`_global_names`) of every pickle in ``data``,
    one after another (a raw torch file holds several, then storage bytes,
    where scanning stops)."""
    found: Set[Tuple[str, str]] = set()
    stream = memoryview(data)
    while len(stream):
        pushed: List[Any] = []
        memo: Dict[int, Any] = {}
        end = 0
        try:
            for op, arg, pos in pickletools.genops(bytes(stream)):
                end = pos + 1
                if op.name == 'GLOBAL':
                    found.add(_global_names(*arg.split(' ', 1)))
                elif op.name == 'STACK_GLOBAL' and len(pushed) >= 2:
                    found.add(_global_names(str(pushed[-2]), str(pushed[-1])))
                elif op.name == 'MEMOIZE':
                    memo[len(memo)] = pushed[-1] if pushed else None
                elif op.name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
                    memo[arg] = pushed[-1] if pushed else None
                elif op.name in ('GET', 'BINGET', 'LONG_BINGET'):
                    pushed.append(memo.get(arg))
                elif isinstance(arg, str):
                    pushed.append(arg)
        except Exception:  # noqa: BLE001  (not a pickle: storage bytes)
            break
        stream = stream[end:]
    return found


def _pickled_bytes(filename: str) -> bytes:
    """The pickle part of a checkpoint: ``*/data.pkl`` of torch's zip
    format, else the whole (raw, legacy) file."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as archive:
            return b''.join(archive.read(name) for name in archive.namelist()
                            if name.endswith('data.pkl'))
    with open(filename, 'rb') as f:
        return f.read()


def refused_globals(filename: str) -> List[str]:
    """The pickled globals of ``filename`` outside the allow-list."""
    try:
        found = _globals_in_pickles(_pickled_bytes(filename))
    except (OSError, zipfile.BadZipFile):
        return []
    admitted = admitted_global_names()
    return sorted(shown for seen, shown in found if seen not in admitted)


def _unpickler_reason(err: Exception) -> str:
    """The unpickler's own line in torch's long weights-only message."""
    text = str(err).split('WeightsUnpickler error:', 1)[-1].strip()
    return text.splitlines()[0] if text else repr(err)


def _load_weights_only(filename: str, map_location: Optional[Any]) -> Any:
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        return torch.load(filename, map_location=map_location,
                          weights_only=True)


def safe_torch_load(filename: Union[str, os.PathLike],
                    map_location: Optional[Any] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` plus mmengine's allow-list.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UntrustedCheckpointError: the file pickles a global outside the
            allow-list, or calls an admitted one in a way mmengine does not
            (the message names them and how to trust the file).
        pickle.UnpicklingError: the file is not a complete checkpoint.
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    if checkpoints_trusted():
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    _refused_calls.calls = []
    try:
        return _load_weights_only(filename, map_location)
    except pickle.UnpicklingError as err:
        refused = refused_globals(filename) + _refused_calls.calls
        if not refused:  # truncated or corrupt, not untrusted
            raise pickle.UnpicklingError(
                f'checkpoint {filename} is not a complete torch checkpoint: '
                f'{_unpickler_reason(err)}') from None
        raise UntrustedCheckpointError(
            f'Refusing to load checkpoint {filename}: it pickles objects '
            f'outside mmvitreg\'s allow-list: {", ".join(refused)}. Loading '
            'arbitrary pickled objects can execute code. If you trust '
            f'this file, set {TRUST_ENV_VAR}=1 (or pass '
            '--trust-checkpoint to tools/train.py / tools/test.py).'
        ) from None
    finally:
        _refused_calls.calls = None


def _load_local_checkpoint(filename: str,
                           map_location: Optional[Any] = None) -> Any:
    return safe_torch_load(filename, map_location=map_location)


def install_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`safe_torch_load`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        _load_local_checkpoint)
