"""Let ``mim`` find the model zoo of an editable checkout, from any folder.

mim (``mim search mmvitreg``) reads
``<location>/mmvitreg/.mim/model-index.yml``, where ``<location>`` is the
folder of the installed distribution's metadata
(``pkg_resources.get_distribution('mmvitreg').location``). OpenMMLab's own
packages were installed with ``setup.py develop``, whose metadata sits in the
checkout. pip's PEP 660 editable install (what ``pip install -e .`` does
today) puts the metadata in site-packages and imports the checkout through a
finder, so ``site-packages/mmvitreg`` does not exist and mim stops with
``.../site-packages/mmvitreg/model-index.yml ... is not found``.

``tools/install.sh`` therefore writes ``site-packages/mmvitreg/`` with two
entries (:func:`write_link`):

- ``__init__.py``: a redirect that loads the checkout's ``mmvitreg`` under
  the same name, so ``mmvitreg.__file__``, ``__path__``, its submodules and
  tracebacks are the checkout's files, as with setuptools' finder;
- ``.mim``: a symbolic link to the checkout's ``mmvitreg/.mim`` (itself
  links to the root's ``model-index.yml`` and ``configs/``).

Both are listed in the distribution's ``RECORD``, so ``pip uninstall
mmvitreg`` removes them (the link, never what it points to);
:func:`remove_link` does so by hand. This file imports only the standard
library.
"""
import os
import os.path as osp
import shutil
import sys

if __package__ in (None, ''):  # run as a script by tools/install.sh
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from startup_hook import _record_file, _record_row, site_packages_cli
else:
    from .startup_hook import _record_file, _record_row, site_packages_cli

#: The checkout's package folder (this file is ``mmvitreg/compat/...``).
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))

REDIRECT = '''\
"""Written by tools/install.sh (mmvitreg/compat/mim_link.py): loads the
editable checkout's mmvitreg under this name. This folder exists so that
mim finds .mim/ (a link to the checkout's model zoo)."""
import importlib.util as _util
import os.path as _osp
import sys as _sys

_init = {init!r}
if not _osp.isfile(_init):
    raise ImportError(f'mmvitreg: the editable checkout is gone ({{_init}}); '
                      'run tools/install.sh in the checkout again')
_spec = _util.spec_from_file_location(
    __name__, _init, submodule_search_locations=[_osp.dirname(_init)])
_module = _util.module_from_spec(_spec)
_sys.modules[__name__] = _module
_spec.loader.exec_module(_module)
'''


def redirect_source(package_dir: str = PACKAGE_DIR) -> str:
    """The redirect ``__init__.py`` for the checkout ``package_dir``."""
    return REDIRECT.format(init=osp.join(package_dir, '__init__.py'))


def write_link(site_packages: str, package_dir: str = PACKAGE_DIR) -> str:
    """Write ``site_packages/mmvitreg/{__init__.py,.mim}`` and list both in
    mmvitreg's ``RECORD``. Refuses to touch a ``site_packages/mmvitreg``
    that is a real install (one without this file's redirect). Returns the
    folder."""
    folder = osp.join(site_packages, 'mmvitreg')
    init = osp.join(folder, '__init__.py')
    if osp.isfile(init):
        with open(init) as f:
            if 'mmvitreg/compat/mim_link.py' not in f.read():
                raise FileExistsError(
                    f'{folder} holds an installed mmvitreg (not an editable '
                    'redirect); pip uninstall mmvitreg first')
    mim = osp.join(package_dir, '.mim')
    if not osp.isfile(osp.join(mim, 'model-index.yml')):
        raise FileNotFoundError(f'{mim}/model-index.yml: the checkout has '
                                'no model zoo for mim')
    os.makedirs(folder, exist_ok=True)
    data = redirect_source(package_dir).encode()
    with open(init, 'wb') as f:
        f.write(data)
    link = osp.join(folder, '.mim')
    if osp.islink(link):
        os.remove(link)
    os.symlink(mim, link, target_is_directory=True)
    record = _record_file(site_packages)
    if record is not None:
        names = ('mmvitreg/__init__.py', 'mmvitreg/.mim')
        with open(record) as f:
            rows = [r for r in f if r.split(',')[0] not in names]
        rows += [_record_row(names[0], data), f'{names[1]},,\n']
        with open(record, 'w') as f:
            f.writelines(rows)
    return folder


def remove_link(site_packages: str) -> bool:
    """Remove what :func:`write_link` wrote (the link, not its target)."""
    folder = osp.join(site_packages, 'mmvitreg')
    link = osp.join(folder, '.mim')
    if not osp.islink(link):
        return False
    os.remove(link)
    os.remove(osp.join(folder, '__init__.py'))
    shutil.rmtree(osp.join(folder, '__pycache__'), ignore_errors=True)
    if not os.listdir(folder):
        os.rmdir(folder)
    return True


if __name__ == '__main__':
    site_packages_cli(
        "Write or remove site-packages/mmvitreg (a redirect to the editable "
        "checkout and a link to its .mim model zoo) so that 'mim search "
        "mmvitreg' works from any folder", 'mim link', write_link,
        remove_link)
