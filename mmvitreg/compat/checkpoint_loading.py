"""Safe checkpoint loading for mmengine 0.10.7 under torch's ``weights_only``.

torch >= 2.6 unpickles with ``weights_only=True`` by default, and mmengine
0.10.7 calls ``torch.load`` without saying otherwise, so resuming from its own
training checkpoints fails on ``HistoryBuffer`` and numpy objects kept in the
message hub. Rather than switching safety off, :func:`safe_torch_load`
allow-lists exactly what an mmengine training checkpoint contains:

* ``mmengine.logging.HistoryBuffer`` (message-hub scalars), and
  ``builtins.getattr`` (HistoryBuffer pickles its statistics bound methods);
* numpy arrays, dtypes and scalars (``_reconstruct``, ``ndarray``, ``dtype``,
  the concrete ``numpy.dtypes`` classes, ``multiarray.scalar``).

Any other pickled global is refused with :class:`UntrustedCheckpointError`,
which names the file and the globals. To load a file you trust anyway, set
the environment variable ``MMVITREG_TRUST_CHECKPOINTS=1`` (``tools/train.py``
and ``tools/test.py`` also take ``--trust-checkpoint``), which loads it with
``weights_only=False``.

:func:`install_safe_checkpoint_loader` registers the loader for local paths
with mmengine's ``CheckpointLoader`` (resume, ``load_from``, ``init_cfg``
``Pretrained``, ``tools/test.py`` all go through it).
"""
import builtins
import os
import os.path as osp
import pickle
from typing import Any, List, Optional, Union

import numpy as np
import torch

TRUST_ENV_VAR = 'MMVITREG_TRUST_CHECKPOINTS'


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects outside the allow-list."""


def _numpy_globals() -> List[Any]:
    multiarray = getattr(np, '_core', None)
    multiarray = (multiarray.multiarray
                  if multiarray is not None else np.core.multiarray)
    dtype_classes = [
        getattr(np.dtypes, name) for name in dir(np.dtypes)
        if name.endswith('DType')
    ]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype
            ] + dtype_classes


def mmengine_checkpoint_globals() -> List[Any]:
    """The non-tensor globals an mmengine 0.10.x training checkpoint holds."""
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, builtins.getattr] + _numpy_globals()


def checkpoints_trusted() -> bool:
    """Whether the user opted out of safe loading (``MMVITREG_TRUST_CHECKPOINTS``)."""
    return os.environ.get(TRUST_ENV_VAR, '').lower() in ('1', 'true', 'yes')


def _describe_unsafe_globals(filename: str) -> str:
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # noqa: BLE001  (only used to improve the message)
        return ''
    allowed = {
        f'{obj.__module__}.{obj.__qualname__}'
        for obj in mmengine_checkpoint_globals()
    }
    refused = sorted(name for name in found if name not in allowed)
    return ', '.join(refused)


def safe_torch_load(filename: Union[str, os.PathLike],
                    map_location: Optional[Any] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` plus mmengine's allow-list.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UntrustedCheckpointError: the file pickles a global outside the
            allow-list (the message names them and how to trust the file).
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    if checkpoints_trusted():
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        try:
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
        except pickle.UnpicklingError as err:
            refused = _describe_unsafe_globals(filename)
            detail = (f'it pickles objects outside mmvitreg\'s allow-list: '
                      f'{refused}' if refused else f'torch said: {err}')
            raise UntrustedCheckpointError(
                f'Refusing to load checkpoint {filename}: {detail}. Loading '
                'arbitrary pickled objects can execute code. If you trust '
                f'this file, set {TRUST_ENV_VAR}=1 (or pass '
                '--trust-checkpoint to tools/train.py / tools/test.py).'
            ) from None


def _load_local_checkpoint(filename: str,
                           map_location: Optional[Any] = None) -> Any:
    return safe_torch_load(filename, map_location=map_location)


def install_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`safe_torch_load`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        _load_local_checkpoint)
