"""The interpreter-start hook: mmseg's and mmpretrain's own APIs work in a
fresh Python of the venv without ``import mmvitreg``; startup stays cheap;
the ``.pth`` is listed for ``pip uninstall``."""
import base64
import hashlib
import os
import os.path as osp
import subprocess
import sys
import sysconfig

import pytest

from mmvitreg.compat import has_compiled_ops, startup_hook

SITE_PACKAGES = sysconfig.get_path('purelib')


def run_python(code: str) -> subprocess.CompletedProcess:
    """A fresh interpreter of this venv, started outside the repository (so
    that nothing imports the checkout's files by accident)."""
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=600, cwd=osp.expanduser('~'))


def test_the_venv_has_the_hook():
    assert osp.isfile(osp.join(SITE_PACKAGES, startup_hook.PTH_NAME)), (
        'run bash tools/install.sh')


@pytest.mark.skipif(has_compiled_ops(), reason='full mmcv: no stand-in')
def test_a_fresh_python_imports_mmseg_apis_without_mmvitreg():
    proc = run_python(
        'import sys; import mmseg.apis, mmpretrain.apis; '
        "print(sorted(m for m in ('mmvitreg', 'mmcv.ops') if m in "
        "sys.modules), sys.modules['mmcv.ops'].__mmvitreg_stub__)")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the stand-in only, not the package (no registrations behind the back)
    assert proc.stdout.split('\n')[-2] == "['mmcv.ops'] True"


def test_interpreter_start_imports_no_torch_and_no_mmcv():
    proc = run_python(
        'import sys; print([type(f).__name__ for f in sys.meta_path][0], '
        "[m for m in ('torch', 'mmcv', 'mmvitreg') if m in sys.modules])")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'MmcvOpsStartupHook []'


def test_hook_fires_once_and_leaves_mmcv_its_loader():
    proc = run_python(
        'import sys, mmcv; '
        "print(any(type(f).__name__ == 'MmcvOpsStartupHook' "
        'for f in sys.meta_path), type(mmcv.__loader__).__name__, '
        'mmcv.__spec__.loader is mmcv.__loader__)')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split('\n')[-2] == 'False SourceFileLoader True'


def test_the_package_reuses_the_hooks_stand_in_module():
    """One ``CompiledOpUnavailableError`` class whichever came first."""
    proc = run_python(
        'import mmseg.apis, mmvitreg, mmcv.ops; '
        'from mmvitreg.compat import CompiledOpUnavailableError as E\n'
        'try:\n    mmcv.ops.sigmoid_focal_loss()\n'
        'except E:\n    print("caught")')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('caught')


def test_write_pth_lists_it_in_record(tmp_path):
    dist_info = tmp_path / 'mmvitreg-0.1.0.dist-info'
    dist_info.mkdir()
    (dist_info / 'RECORD').write_text('mmvitreg-0.1.0.dist-info/RECORD,,\n')
    for _ in range(2):  # a second install replaces its row
        path = startup_hook.write_pth(str(tmp_path))
    assert path == str(tmp_path / 'mmvitreg-startup-hook.pth')
    data = open(path, 'rb').read()
    assert data.startswith(b'import ') and data.count(b'\n') == 1
    assert startup_hook.__file__.encode() in data
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    rows = (dist_info / 'RECORD').read_text().splitlines()
    assert rows == ['mmvitreg-0.1.0.dist-info/RECORD,,',
                    'mmvitreg-startup-hook.pth,sha256='
                    f'{digest.decode().rstrip("=")},{len(data)}']
    assert startup_hook.remove_pth(str(tmp_path))
    assert not os.path.exists(path)


def test_pth_line_is_silent_when_the_checkout_is_gone(tmp_path):
    line = startup_hook.pth_line(str(tmp_path / 'gone.py'))
    proc = subprocess.run([sys.executable, '-c', line + 'print("ok")'],
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, 'ok\n', '')
