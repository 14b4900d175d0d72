"""``mim search mmvitreg`` finds the editable checkout's model zoo from any
folder (``site-packages/mmvitreg``: a redirect to the checkout and a link to
its ``.mim``); the redirect imports the checkout's files; uninstall rows."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import sysconfig

import pytest
import yaml

from mmvitreg.compat import mim_link

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SITE_PACKAGES = sysconfig.get_path('purelib')


def zoo_names() -> list:
    """Every model name, read from the root's model-index and metafiles."""
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    names = []
    for entry in index['Import']:
        with open(osp.join(REPO, entry)) as f:
            names += [m['Name'] for m in yaml.safe_load(f)['Models']]
    return names


def test_mim_search_lists_the_zoo_from_outside_the_checkout(tmp_path):
    assert osp.islink(osp.join(SITE_PACKAGES, 'mmvitreg', '.mim')), (
        'run bash tools/install.sh (it writes site-packages/mmvitreg)')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([mim, 'search', 'mmvitreg'], cwd=tmp_path,
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    names = zoo_names()
    assert len(names) >= 20
    missing = [n for n in names if f'config id: {n}\n' not in proc.stdout]
    assert not missing, proc.stdout[-3000:]
    assert 'configs/seg/upernet_swin_l_ade20k_stage2.py' in proc.stdout


def test_import_from_outside_gives_the_checkouts_files(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run(
        [sys.executable, '-c', 'import mmvitreg.compat.mim_link as m, '
         'mmvitreg; print(mmvitreg.__file__); print(m.__file__)'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the venv's install points at the checkout these tests live in
    assert proc.stdout.split() == [
        osp.join(REPO, 'mmvitreg', '__init__.py'),
        osp.join(REPO, 'mmvitreg', 'compat', 'mim_link.py')]


@pytest.fixture
def checkout(tmp_path):
    """A stand-in package folder: ``__init__`` sets a value, one submodule,
    a ``.mim`` model index."""
    pkg = tmp_path / 'checkout' / 'mmvitreg'
    (pkg / '.mim').mkdir(parents=True)
    (pkg / '.mim' / 'model-index.yml').write_text('Import: []\n')
    (pkg / '__init__.py').write_text('VALUE = 41\n')
    (pkg / 'sub.py').write_text('from . import VALUE\nANSWER = VALUE + 1\n')
    site = tmp_path / 'site'
    (site / 'mmvitreg-0.1.0.dist-info').mkdir(parents=True)
    (site / 'mmvitreg-0.1.0.dist-info' / 'RECORD').write_text(
        'mmvitreg-0.1.0.dist-info/METADATA,,\n')
    return str(pkg), str(site)


def load_redirect(site: str, name: str):
    """Import the written redirect under ``name`` (not ``mmvitreg``, which
    this process already has)."""
    spec = importlib.util.spec_from_file_location(
        name, osp.join(site, 'mmvitreg', '__init__.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        return sys.modules[name]
    finally:
        sys.modules.pop(name, None)


def test_write_link_redirects_and_records(checkout):
    pkg, site = checkout
    folder = mim_link.write_link(site, pkg)
    assert folder == osp.join(site, 'mmvitreg')
    assert os.readlink(osp.join(folder, '.mim')) == osp.join(pkg, '.mim')
    assert osp.isfile(osp.join(folder, '.mim', 'model-index.yml'))
    module = load_redirect(site, 'fake_redirected')
    assert module.VALUE == 41
    assert module.__file__ == osp.join(pkg, '__init__.py')
    assert module.__path__ == [pkg]
    with open(osp.join(site, 'mmvitreg-0.1.0.dist-info', 'RECORD')) as f:
        rows = [r.split(',')[0] for r in f]
    assert rows == ['mmvitreg-0.1.0.dist-info/METADATA',
                    'mmvitreg/__init__.py', 'mmvitreg/.mim']
    # again: same rows, not twice
    mim_link.write_link(site, pkg)
    with open(osp.join(site, 'mmvitreg-0.1.0.dist-info', 'RECORD')) as f:
        assert len(f.readlines()) == 3
    assert mim_link.remove_link(site)
    assert not osp.exists(folder)
    assert osp.isfile(osp.join(pkg, '.mim', 'model-index.yml'))  # kept
    assert not mim_link.remove_link(site)


def test_redirect_submodules_come_from_the_checkout(checkout):
    pkg, site = checkout
    mim_link.write_link(site, pkg)
    code = ('import sys; sys.path.insert(0, %r); import mmvitreg.sub as s; '
            'print(s.ANSWER, s.__file__)' % site)
    proc = subprocess.run([sys.executable, '-S', '-c', code],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['42', osp.join(pkg, 'sub.py')]


def test_gone_checkout_names_the_path(checkout):
    pkg, site = checkout
    mim_link.write_link(site, pkg)
    os.remove(osp.join(pkg, '__init__.py'))
    with pytest.raises(ImportError, match='checkout is gone .*'
                       + osp.join(pkg, '__init__.py').replace('/', '.')):
        load_redirect(site, 'fake_gone')


def test_refuses_a_real_install(checkout):
    pkg, site = checkout
    os.makedirs(osp.join(site, 'mmvitreg'))
    with open(osp.join(site, 'mmvitreg', '__init__.py'), 'w') as f:
        f.write('# a copied install\n')
    with pytest.raises(FileExistsError, match='pip uninstall mmvitreg'):
        mim_link.write_link(site, pkg)
    with open(osp.join(site, 'mmvitreg', '__init__.py')) as f:
        assert f.read() == '# a copied install\n'  # untouched


def test_refuses_a_checkout_without_a_zoo(checkout):
    pkg, site = checkout
    os.remove(osp.join(pkg, '.mim', 'model-index.yml'))
    with pytest.raises(FileNotFoundError, match='model-index.yml'):
        mim_link.write_link(site, pkg)
    assert not osp.exists(osp.join(site, 'mmvitreg'))
