"""Every config resolves to the dict recorded in ``configs_resolved.json``.

The snapshot was written from the configs before issue 23's de-duplication
(moving the demos' repeated blocks into ``_base_`` files), so a refactor of
how a config is written must leave what it means unchanged, to the key and
to the tuple/list kind of each value. A new config must be added to the
snapshot, so that it is covered too. That de-duplication changed it once,
by additions only: the shared digits bases define top-level ``digits_*``
entries (mmengine refuses a key defined by two bases, so a base listed next
to a recipe needs names the recipe lacks), which now also stand in the
resolved dicts of the demos that list them; every key recorded before is
unchanged (commits de05244 and f72f3f9 list them).

After an INTENDED change to what a config resolves to (a new recipe value,
a new config), regenerate the snapshot and commit it with the change, saying
in the message which keys changed and why:

    .venv/bin/python tools/dev/snapshot_configs.py
    git diff tests/configs_resolved.json   # review: only the intended keys
"""
import importlib.util
import json
import os.path as osp

import pytest
from tool_runner import ROOT

SNAPSHOT = osp.join(ROOT, 'tests', 'configs_resolved.json')


def _snapshot_tool():
    """``tools/dev/snapshot_configs.py``, loaded by path (tools/ is not a
    package): the one definition of which files are configs and of the
    canonical JSON form."""
    path = osp.join(ROOT, 'tools', 'dev', 'snapshot_configs.py')
    spec = importlib.util.spec_from_file_location('snapshot_configs', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _snapshot_tool()
with open(SNAPSHOT, encoding='utf-8') as _f:
    RECORDED = json.load(_f)


def first_difference(expected, actual, where=''):
    """The key path of the first place where ``actual`` departs from
    ``expected`` and both values there, or None when they are equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            path = f'{where}.{key}' if where else key
            if key not in actual:
                return f'{path}: missing (recorded {expected[key]!r})'
            if key not in expected:
                return f'{path}: not recorded (now {actual[key]!r})'
            found = first_difference(expected[key], actual[key], path)
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return (f'{where}: length {len(actual)}, recorded '
                    f'{len(expected)}')
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(e, a, f'{where}[{i}]')
            if found:
                return found
        return None
    if type(expected) is not type(actual) or expected != actual:
        return f'{where}: {actual!r}, recorded {expected!r}'
    return None


@pytest.mark.parametrize('rel', sorted(RECORDED))
def test_config_resolves_to_its_snapshot(rel):
    assert osp.isfile(osp.join(ROOT, rel)), (
        f'{rel} is in tests/configs_resolved.json but no longer exists; '
        'regenerate the snapshot (see this module\'s docstring)')
    found = first_difference(RECORDED[rel], TOOL.resolve(rel, ROOT))
    assert found is None, f'{rel} resolves differently: {found}'


def test_snapshot_covers_every_config():
    on_disk = set(TOOL.config_paths(ROOT))
    assert on_disk - set(RECORDED) == set(), (
        'configs missing from tests/configs_resolved.json (regenerate it, '
        'see tests/test_config_snapshot.py)')
    assert set(RECORDED) - on_disk == set(), (
        'tests/configs_resolved.json records configs that are gone')


def test_first_difference_names_the_key_path():
    """Control for the comparison itself: a nested value, a tuple turned
    list and an int turned float are each reported at their path."""
    recorded = {'model': {'backbone': {'depths': [2, 2], 'lr': 1}},
                'crop': {TOOL.TUPLE_KEY: [64, 64]}}
    assert first_difference(recorded, recorded) is None
    assert first_difference(
        recorded, {'model': {'backbone': {'depths': [2, 3], 'lr': 1}},
                   'crop': {TOOL.TUPLE_KEY: [64, 64]}}) == (
        'model.backbone.depths[1]: 3, recorded 2')
    assert first_difference(
        recorded, {'model': {'backbone': {'depths': [2, 2], 'lr': 1}},
                   'crop': [64, 64]}).startswith('crop: [64, 64], recorded')
    assert first_difference(
        recorded, {'model': {'backbone': {'depths': [2, 2], 'lr': 1.0}},
                   'crop': {TOOL.TUPLE_KEY: [64, 64]}}) == (
        'model.backbone.lr: 1.0, recorded 1')
