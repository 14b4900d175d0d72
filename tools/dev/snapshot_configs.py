"""Write the resolved form of every config under ``configs/`` to one JSON file.

Why: a config refactor (moving blocks into ``_base_`` files, pulling values
with ``{{_base_.x}}``) must not change what any config resolves to. This
script records ``Config.fromfile(path).to_dict()`` for every config
(``_base_/`` folders skipped: they are pieces, not configs) in a canonical
form, and ``tests/test_config_snapshot.py`` compares the live configs with
the recorded file. Rerun it only after a change to what a config means,
and say why in the commit:

    .venv/bin/python tools/dev/snapshot_configs.py

Canonical form: keys sorted; a tuple is written as ``{"__tuple__": [...]}``
so that a tuple turned into a list (which mmengine and the registries can
treat differently) shows as a change; anything JSON cannot hold is refused.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Any, Dict, List

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_OUT = osp.join(ROOT, 'tests', 'configs_resolved.json')
TUPLE_KEY = '__tuple__'


def config_paths(root: str = ROOT) -> List[str]:
    """Every config under ``configs/``, relative to ``root``, sorted.

    ``_base_`` folders hold pieces that only make sense inherited, so they
    are left out, as ``tests/test_configs.py`` leaves them out.
    """
    found = glob.glob(osp.join(root, 'configs', '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(p, root).replace(osp.sep, '/') for p in found
        if '_base_' not in osp.relpath(p, root).split(osp.sep))


def canonical(value: Any, where: str = '') -> Any:
    """A JSON-ready copy of ``value``: dicts with str keys, tuples marked.

    Raises ``TypeError`` naming the key path for a value JSON cannot hold
    (a function or class object in a config), rather than writing its
    ``repr``, which would not compare stably.
    """
    if isinstance(value, dict):
        return {str(k): canonical(v, f'{where}.{k}' if where else str(k))
                for k, v in value.items()}
    if isinstance(value, tuple):
        return {TUPLE_KEY: [canonical(v, f'{where}[{i}]')
                            for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [canonical(v, f'{where}[{i}]') for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f'{where}: {type(value).__name__} cannot be snapshotted')


def resolve(rel_path: str, root: str = ROOT) -> Dict[str, Any]:
    """The canonical resolved dict of one config (``rel_path`` from root)."""
    from mmengine.config import Config

    import mmvitreg  # noqa: F401  (registers the suite, compat before mmseg)
    cfg = Config.fromfile(osp.join(root, rel_path))
    try:
        return canonical(cfg.to_dict())
    except TypeError as err:
        raise TypeError(f'{rel_path}: {err}') from err


def dumps(snapshot: Dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(snapshot, sort_keys=True, indent=2) + '\n'


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    snapshot = {rel: resolve(rel) for rel in config_paths()}
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(dumps(snapshot))
    print(f'{len(snapshot)} configs -> {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
