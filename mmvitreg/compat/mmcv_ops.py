"""``mmcv.ops`` stand-in for environments with ``mmcv-lite`` (no compiled ops).

mmsegmentation 1.2.2 imports ``mmcv.ops`` at import time in four modules
(``mmseg/utils/mask_classification.py``, ``models/utils/point_sample.py``,
``models/losses/focal_loss.py``, ``models/decode_heads/san_head.py``), so on
``mmcv-lite`` even ``import mmseg.datasets`` fails. The stand-in installed
here:

* is a package object whose ``__path__`` is the real ``mmcv/ops`` folder, so
  the pure-PyTorch submodules (``point_sample``) import without running the
  real ``mmcv/ops/__init__.py`` (which loads the compiled extension);
* exposes the pure-PyTorch ``point_sample`` helpers under their usual names;
* exposes the compiled ops mmseg imports unguarded (``sigmoid_focal_loss``) as
  callables that raise :class:`CompiledOpUnavailableError` only when called;
* raises ``ModuleNotFoundError`` for every other name, which is what mmseg's
  guarded imports (``cc_head.py``, ``psa_head.py``, ``point_head.py``) catch.

With a full mmcv (``mmcv._ext`` importable) :func:`install` does nothing.
"""
import importlib.util
import os.path as osp
import sys
import types
import warnings
from typing import Callable, NoReturn

#: Compiled ops that downstream libraries import unguarded at import time.
UNGUARDED_COMPILED_OPS = ('sigmoid_focal_loss', 'softmax_focal_loss')
#: Pure-PyTorch names re-exported from ``mmcv/ops/point_sample.py``.
PURE_TORCH_OPS = ('point_sample', 'bilinear_grid_sample',
                  'rel_roi_point_to_rel_img_point')

_HINT = ('This environment has mmcv-lite, which ships no compiled ops. '
         'Install a full mmcv 2.1.x built for your torch/CUDA '
         '(`pip install mmcv==2.1.0` from source or OpenMMLab wheels) '
         'to use it; nothing else in mmvitreg needs it.')


class CompiledOpUnavailableError(ModuleNotFoundError):
    """Raised when a compiled ``mmcv.ops`` op is requested on mmcv-lite."""


def has_compiled_ops() -> bool:
    """Whether the installed mmcv carries its compiled extension."""
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except (ImportError, ValueError):
        return False


def _compiled_op_stub(name: str) -> Callable[..., NoReturn]:

    def stub(*args, **kwargs) -> NoReturn:
        raise CompiledOpUnavailableError(
            f'mmcv.ops.{name} is a compiled op. {_HINT}')

    stub.__name__ = name
    stub.__qualname__ = name
    stub.__doc__ = f'Unavailable compiled op ``mmcv.ops.{name}`` (mmcv-lite).'
    return stub


def _missing_attr(name: str):
    if name.startswith('__'):
        raise AttributeError(name)
    raise CompiledOpUnavailableError(
        f'mmcv.ops.{name} is not available. {_HINT}')


def is_installed() -> bool:
    """Whether the stand-in (not a real ``mmcv.ops``) is in ``sys.modules``."""
    return getattr(sys.modules.get('mmcv.ops'), '__mmvitreg_stub__', False)


def install() -> bool:
    """Install the stand-in if mmcv has no compiled ops.

    Returns:
        bool: True if the stand-in is (now) active, False if a real
        ``mmcv.ops`` is used (or mmcv is not installed at all).
    """
    if is_installed():
        return True
    if 'mmcv.ops' in sys.modules:
        return False
    try:
        import mmcv
    except ImportError:
        return False
    if is_installed():  # by the startup hook, on this very import of mmcv
        return True
    if has_compiled_ops():
        return False

    ops = types.ModuleType('mmcv.ops', __doc__)
    ops.__path__ = [osp.join(osp.dirname(mmcv.__file__), 'ops')]
    ops.__package__ = 'mmcv.ops'
    ops.__mmvitreg_stub__ = True
    ops.__getattr__ = _missing_attr
    sys.modules['mmcv.ops'] = ops
    mmcv.ops = ops

    point_sample_module = importlib.import_module('mmcv.ops.point_sample')
    for name in PURE_TORCH_OPS:
        setattr(ops, name, getattr(point_sample_module, name))
    for name in UNGUARDED_COMPILED_OPS:
        setattr(ops, name, _compiled_op_stub(name))
    # mmcv.cnn warns on every import that this compiled op is missing; the
    # stand-in already explains it when (and only when) it is used.
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    return True
