"""Shared pytest fixtures for the whole suite.

Add a fixture here only when several test files need it, keep it cheap
(2 shared CPU cores), and document what it returns.

``mmvitreg`` is imported first so that its compat layer (``mmcv.ops``
stand-in on mmcv-lite) is installed before any test imports mmseg.
"""
import shutil
from contextlib import contextmanager

import pytest

import mmvitreg  # noqa: F401  (compat layer before mmseg)
from mmvitreg.datasets.digits import prepare_digits

#: Arguments of the shared digits tree: real image sizes, few scenes.
#: The classification part always holds all 1,797 scans (1438 train / 359
#: val); the ADE20K and Cityscapes parts hold 24 train and 8 val scenes.
SMALL_DIGITS = dict(
    size=32, scene_size=64, train_scenes=24, val_scenes=8, seed=0)


@pytest.fixture(scope='session')
def digits_root(tmp_path_factory) -> str:
    """Root of a small digits tree written once per session (~2 s).

    Layout as ``data/digits`` (see ``mmvitreg/datasets/digits/__init__.py``):
    ``<root>/imagenet``, ``<root>/ade/ADEChallengeData2016``,
    ``<root>/cityscapes``. Shared by every test: treat it as read-only
    (use ``tiny_digits_root`` to modify files).
    """
    out = tmp_path_factory.mktemp('digits_session') / 'digits'
    return prepare_digits(str(out), **SMALL_DIGITS)['root']


@pytest.fixture
def tiny_digits_root(digits_root, tmp_path) -> str:
    """A private copy of ``digits_root`` (same layout) that a test may
    modify or break; copied, not regenerated (~0.3 s)."""
    out = tmp_path / 'digits'
    shutil.copytree(digits_root, out)
    return str(out)


@contextmanager
def _restored_default_scopes():
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


@pytest.fixture(autouse=True)
def isolated_default_scope():
    """Undo any mmengine default scope a test creates.

    ``init_default_scope('mmseg')`` (or a Runner) leaves a global
    ``DefaultScope`` behind, after which mmpretrain registries resolve types
    in mmseg's scope; each test starts from the scopes it found.
    """
    with _restored_default_scopes():
        yield


@pytest.fixture(autouse=True, scope='module')
def module_isolated_default_scope():
    """The same for scopes set by module-scoped fixtures."""
    with _restored_default_scopes():
        yield
