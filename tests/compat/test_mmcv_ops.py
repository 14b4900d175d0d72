"""The mmcv.ops stand-in: mmseg imports on mmcv-lite, compiled ops fail
clearly."""
import subprocess
import sys
import textwrap

import pytest
import torch

import mmvitreg  # noqa: F401
from mmvitreg.compat import (
    CompiledOpUnavailableError,
    has_compiled_ops,
    mmcv_ops,
)

pytestmark = pytest.mark.skipif(
    has_compiled_ops(), reason='full mmcv installed: the stand-in is inactive')


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300)


def test_mmseg_and_mmpretrain_import_after_mmvitreg():
    proc = run_python("""
        import mmvitreg
        import mmseg.models, mmseg.datasets, mmpretrain.models
        from mmseg.models.losses import FocalLoss
        print('ok')
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith('ok')


#: Takes the venv's interpreter-start hook (mmvitreg/compat/startup_hook.py)
#: off ``sys.meta_path`` before mmcv is imported.
NO_STARTUP_HOOK = ('import sys; sys.meta_path[:] = [f for f in sys.meta_path '
                   "if type(f).__name__ != 'MmcvOpsStartupHook']\n")


def test_mmseg_fails_without_the_stand_in():
    """Guards the premise: on mmcv-lite mmseg needs the stand-in."""
    proc = run_python(NO_STARTUP_HOOK + 'import mmseg.datasets')
    assert proc.returncode != 0
    assert 'mmcv' in proc.stderr


def test_point_sample_is_the_pure_torch_op():
    from mmcv.ops import point_sample
    feat = torch.arange(16.).view(1, 1, 4, 4)
    # Centre of pixel (row 1, col 2) in [0, 1] coordinates (x, y).
    points = torch.tensor([[[2.5 / 4, 1.5 / 4]]])
    out = point_sample(feat, points, align_corners=False)
    assert out.shape == (1, 1, 1)
    assert out.item() == pytest.approx(6.0)


def test_compiled_op_raises_clear_error_only_when_called():
    from mmcv.ops import sigmoid_focal_loss  # import itself succeeds
    with pytest.raises(CompiledOpUnavailableError,
                       match='sigmoid_focal_loss is a compiled op.*mmcv-lite'):
        sigmoid_focal_loss(torch.zeros(2, 3), torch.zeros(2).long(), 2.0,
                           0.25, None, 'mean')


def test_guarded_imports_fall_back():
    """mmseg's `try: from mmcv.ops import X except ModuleNotFoundError`."""
    with pytest.raises(ModuleNotFoundError, match='CrissCrossAttention'):
        from mmcv.ops import CrissCrossAttention  # noqa: F401
    from mmseg.models.decode_heads import cc_head, psa_head
    assert cc_head.CrissCrossAttention is None
    assert psa_head.PSAMask is None


def test_stand_in_is_active_and_idempotent():
    assert mmcv_ops.is_installed()
    assert mmcv_ops.install() is True


def test_full_mmcv_leaves_mmcv_ops_alone():
    """With compiled ops available, install() must not touch mmcv.ops."""
    proc = run_python(NO_STARTUP_HOOK + textwrap.dedent("""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            'mmcv_ops', %r)  # the module alone, not mmvitreg/__init__
        mmcv_ops = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mmcv_ops)
        mmcv_ops.has_compiled_ops = lambda: True   # what a full mmcv reports
        assert mmcv_ops.install() is False
        assert 'mmcv.ops' not in sys.modules
        assert not mmcv_ops.is_installed()
        print('untouched')
    """) % mmcv_ops.__file__)
    assert proc.returncode == 0, proc.stderr
    assert 'untouched' in proc.stdout
