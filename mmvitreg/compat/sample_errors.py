"""Pipeline errors that name the sample's files.

A transform that fails on one sample raises from deep inside mmcv or mmseg,
often without the file: a corrupt annotation PNG, for instance, makes
mmseg 1.2.2's ``LoadAnnotations`` fail with ``'NoneType' object has no
attribute 'squeeze'`` (cv2 backend) or PIL's ``cannot identify image file
<_io.BytesIO ...>``, in a loader worker, hours into a run.

:func:`install` wraps mmengine's ``Compose.__call__`` (the pipeline of every
mmengine/mmpretrain/mmseg dataset: training, validation, test) so that an
exception leaving a pipeline carries a note (PEP 678, shown in the
traceback, also across loader workers) naming every ``*_path`` of the
sample (``img_path``, ``seg_map_path``, ...). The exception itself (type,
message) is unchanged, so code that catches it behaves as before.
"""
import functools
from typing import Any, Dict

NOTE_PREFIX = 'mmvitreg: the pipeline failed on the sample with '

#: The mmengine 0.10.7 method :func:`install` wraps (``'module:qualname':
#: (sha256[:16] of inspect.getsource, what to re-check)``;
#: tests/compat/test_upstream_drift.py).
UPSTREAM_SOURCES = {
    'mmengine.dataset.base_dataset:Compose.__call__': (
        '9865414baaf9c01e', 'install(): still the one call that runs a '
        "dataset's pipeline on one sample dict, (self, data)"),
}


def sample_files(data: Any) -> str:
    """``'img_path=..., seg_map_path=...'`` for a pipeline's input dict."""
    if not isinstance(data, dict):
        return ''
    paths: Dict[str, Any] = {
        key: value for key, value in data.items()
        if key.endswith('_path') and isinstance(value, str)}
    return ', '.join(f'{key}={value}' for key, value in paths.items())


def install() -> None:
    """Wrap ``mmengine.dataset.Compose.__call__`` once (idempotent).

    A patch, not a subclass: every dataset builds mmengine's ``Compose``
    itself (``BaseDataset.__init__``), with no registry or argument to
    substitute another class. ``functools.wraps`` keeps the name, doc and
    signature (``__wrapped__``); tests/compat/test_upstream_drift.py fails
    if mmengine's ``Compose.__call__(self, data)`` changes.
    """
    from mmengine.dataset import Compose
    if getattr(Compose.__call__, '_names_sample_files', False):
        return
    original = Compose.__call__

    @functools.wraps(original)
    def __call__(self, data):
        try:
            return original(self, data)
        except Exception as error:  # only now: nothing on the hot path
            # transforms add keys to ``data`` in place but keep its paths
            files = sample_files(data)
            notes = getattr(error, '__notes__', [])
            if files and not any(n.startswith(NOTE_PREFIX) for n in notes):
                error.add_note(NOTE_PREFIX + files)
            raise

    __call__._names_sample_files = True
    Compose.__call__ = __call__
