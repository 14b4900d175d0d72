"""Install the ``mmcv.ops`` stand-in in every Python of the venv, lazily.

mmseg imports ``mmcv.ops`` at import time, so on mmcv-lite ``from
mmseg.apis import init_model``, ``MMSegInferencer`` and mmseg's and
mmpretrain's own ``tools/`` fail with ``No module named 'mmcv._ext'``
unless ``import mmvitreg`` ran first. ``tools/install.sh`` therefore
writes ``mmvitreg-startup-hook.pth`` into the venv's site-packages
(:func:`write_pth`); its one line loads this file at interpreter start and
calls :func:`register`.

Interpreter start must stay cheap (no torch): :func:`register` only puts a
finder on ``sys.meta_path``. It fires once, when ``mmcv`` is first
imported, lets the real ``mmcv`` load and then installs the stand-in
(:mod:`mmvitreg.compat.mmcv_ops`, loaded by path under its own name so that
``mmvitreg/__init__`` and its registrations do not run inside ``import
mmcv``; the package reuses that module later). With a full mmcv the
stand-in does nothing.

The ``.pth`` file is listed in the distribution's ``RECORD`` (the standard
list of installed files), so ``pip uninstall mmvitreg`` removes it;
:func:`remove_pth` does so by hand. This file imports only the standard
library.
"""
import base64
import hashlib
import importlib.abc
import importlib.util
import os
import os.path as osp
import sys
from typing import Optional

#: Name of the ``.pth`` file (sorted after setuptools' ``__editable__``
#: ``.pth``, which makes the editable ``mmvitreg`` importable).
PTH_NAME = 'mmvitreg-startup-hook.pth'


def _load_sibling(name: str):
    """``mmvitreg/compat/<name>.py`` under its own module name, without
    running ``mmvitreg/__init__`` (which imports mmseg and mmpretrain); the
    package reuses the module later."""
    full_name = f'mmvitreg.compat.{name}'
    module = sys.modules.get(full_name)
    if module is not None:
        return module
    path = osp.join(osp.dirname(osp.abspath(__file__)), f'{name}.py')
    spec = importlib.util.spec_from_file_location(full_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full_name] = module
    spec.loader.exec_module(module)
    return module


class _InstallAfterMmcv(importlib.abc.Loader):
    """mmcv's own loader, then the stand-in; mmcv keeps its own loader."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _load_sibling('mmcv_ops').install()


class MmcvOpsStartupHook(importlib.abc.MetaPathFinder):
    """Meta-path finder that fires on the first ``import mmcv`` only."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != 'mmcv':
            return None
        unregister()
        spec = importlib.util.find_spec(fullname)  # the other finders
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _InstallAfterMmcv(spec.loader)
        return spec


def register() -> None:
    """Filter the stack's known harmless warnings (:mod:`.known_warnings`)
    and put the hook on ``sys.meta_path`` (idempotent; no hook if mmcv is
    already imported, where ``import mmvitreg`` is the way)."""
    _load_sibling('known_warnings').filter_known_warnings()
    if 'mmcv' in sys.modules:
        return
    if not any(type(f).__name__ == MmcvOpsStartupHook.__name__
               for f in sys.meta_path):
        sys.meta_path.insert(0, MmcvOpsStartupHook())


def unregister() -> None:
    """Take the hook off ``sys.meta_path`` (compared by class name: the
    ``.pth`` loads this file apart from the package)."""
    sys.meta_path[:] = [f for f in sys.meta_path
                        if type(f).__name__ != MmcvOpsStartupHook.__name__]


def pth_line(hook_file: str) -> str:
    """The ``.pth`` line: load ``hook_file`` by path (not through the
    package, whose ``__init__`` is heavy) and register; silent if the file
    is gone."""
    return ('import importlib.util as u, os; p = %r; s = os.path.isfile(p) '
            "and u.spec_from_file_location('_mmvitreg_startup_hook', p); "
            'm = s and u.module_from_spec(s); s and s.loader.exec_module(m); '
            's and m.register()\n' % hook_file)


def _record_file(site_packages: str) -> Optional[str]:
    """The installed ``mmvitreg`` distribution's ``RECORD``, if any."""
    for name in sorted(os.listdir(site_packages)):
        if name.startswith('mmvitreg-') and name.endswith('.dist-info'):
            record = osp.join(site_packages, name, 'RECORD')
            if osp.isfile(record):
                return record
    return None


def _record_row(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return f'{name},sha256={digest.rstrip(b"=").decode()},{len(data)}\n'


def write_pth(site_packages: str) -> str:
    """Write the ``.pth`` into ``site_packages`` and list it in mmvitreg's
    ``RECORD`` so that ``pip uninstall mmvitreg`` removes it. Returns the
    path of the ``.pth``."""
    path = osp.join(site_packages, PTH_NAME)
    data = pth_line(osp.abspath(__file__)).encode()
    with open(path, 'wb') as f:
        f.write(data)
    record = _record_file(site_packages)
    if record is not None:
        with open(record) as f:
            rows = [r for r in f if not r.startswith(PTH_NAME + ',')]
        rows.append(_record_row(PTH_NAME, data))
        with open(record, 'w') as f:
            f.writelines(rows)
    return path


def remove_pth(site_packages: str) -> bool:
    """Remove the ``.pth`` (what ``pip uninstall mmvitreg`` also does)."""
    path = osp.join(site_packages, PTH_NAME)
    if not osp.isfile(path):
        return False
    os.remove(path)
    return True


def site_packages_cli(description: str, what: str, write, remove,
                      argv=None) -> None:
    """``install``/``remove`` command line of a site-packages writer
    (``write(site_packages) -> path``, ``remove(site_packages) -> bool``);
    used by this file and :mod:`.mim_link` as ``tools/install.sh`` runs
    them."""
    import argparse
    import sysconfig
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('action', choices=['install', 'remove'],
                        help=f'write the {what}, or remove it')
    parser.add_argument('--site-packages', default=sysconfig.get_path(
        'purelib'), help="site-packages folder of this Python's venv")
    args = parser.parse_args(argv)
    if args.action == 'install':
        print(f'{what}: {write(args.site_packages)}')
    elif remove(args.site_packages):
        print(f'removed the {what} from {args.site_packages}')


if __name__ == '__main__':
    site_packages_cli('Write or remove the interpreter-start hook that '
                      'installs the mmcv.ops stand-in', 'startup hook .pth',
                      write_pth, remove_pth)
