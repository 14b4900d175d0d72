"""Imports inside mmvitreg point down the written layer order.

The order is the one in ``mmvitreg/__init__.py``'s docstring (a line
``Layers (bottom to top):`` then ``a < b, c < ...``), so the written order is
the checked one. Every ``import`` / ``from`` of every module is walked with
``ast``, those inside functions too (a lazy import is still a dependency),
relative imports resolved against the importing module.
"""
import ast
import os
import os.path as osp
import re
from typing import Dict, Iterator, List, Tuple

from tool_runner import ROOT

PACKAGE = osp.join(ROOT, 'mmvitreg')
#: Outside the order: the package's __init__ imports the registering
#: packages; version.py imports nothing.
EXEMPT = {'__init__', 'version'}


def layer_ranks(doc: str) -> Dict[str, int]:
    """``{package: rank}`` from the docstring's ``Layers (bottom to top):``
    block (the lines up to the next blank line)."""
    match = re.search(r'Layers \(bottom to top\):\n((?:[ \t]+\S.*\n)+)', doc)
    assert match, 'mmvitreg/__init__.py: no "Layers (bottom to top):" block'
    ranks = {}
    for rank, layer in enumerate(' '.join(match.group(1).split()).split('<')):
        for name in layer.split(','):
            ranks[name.strip()] = rank
    return ranks


def _imported(tree: ast.AST, module: List[str],
              is_package: bool) -> Iterator[Tuple[int, str]]:
    """``(line, dotted name)`` of every import in ``tree``; ``module`` is the
    importing module's dotted path as a list."""
    package = module if is_package else module[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                if node.module:
                    yield node.lineno, '.'.join(base + [node.module])
                else:
                    for alias in node.names:
                        yield node.lineno, '.'.join(base + [alias.name])
            else:
                yield node.lineno, node.module


def upward_imports(source: str, path: str,
                   ranks: Dict[str, int]) -> List[str]:
    """Every import in ``source`` (the module at ``path``, relative to the
    repository) of a mmvitreg package not below the module's own."""
    parts = path[:-len('.py')].split('/')
    is_package = parts[-1] == '__init__'
    module = parts[:-1] if is_package else parts
    if len(parts) < 2 or parts[1] in EXEMPT or parts[1].endswith('.py'):
        return []
    own = module[1]
    assert own in ranks, f'{path}: package {own!r} is not in the layer order'
    found = []
    for line, name in _imported(ast.parse(source), module, is_package):
        target = name.split('.')
        if target[0] != 'mmvitreg' or len(target) < 2:
            continue
        other = target[1]
        if other == own or other in EXEMPT:
            continue
        if other not in ranks:
            found.append(f'{path}:{line} imports {name} (package {other!r} '
                         'is not in the layer order)')
        elif ranks[other] >= ranks[own]:
            found.append(f'{path}:{line} imports {name} ({other}, layer '
                         f'{ranks[other]}, is not below {own}, layer '
                         f'{ranks[own]})')
    return found


def _modules() -> Iterator[str]:
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith('.py'):
                yield osp.relpath(osp.join(folder, name), ROOT).replace(
                    os.sep, '/')


def _ranks() -> Dict[str, int]:
    with open(osp.join(PACKAGE, '__init__.py')) as f:
        return layer_ranks(ast.get_docstring(ast.parse(f.read())) + '\n')


def test_the_order_names_every_package():
    packages = {name for name in os.listdir(PACKAGE)
                if osp.isfile(osp.join(PACKAGE, name, '__init__.py'))}
    assert set(_ranks()) == packages


def test_imports_point_down():
    ranks = _ranks()
    found = []
    for path in _modules():
        with open(osp.join(ROOT, path)) as f:
            found += upward_imports(f.read(), path, ranks)
    assert not found, '\n'.join(found)


def test_the_check_catches_upward_and_sideways_imports():
    """Control: the checker, on made-up modules, reports a lazy import of
    the CLI from a model, a relative import of the engine from a dataset
    transform and a model importing a same-layer dataset, and passes a
    downward import."""
    ranks = _ranks()
    lazy_up = 'def f():\n    from mmvitreg.cli import build_runner\n'
    relative_up = 'from ...engine.hooks import DivergenceGuardHook\n'
    sideways = 'import mmvitreg.datasets.checks\n'
    down = 'from ..utils.finite import NonFiniteError\n'
    assert upward_imports(lazy_up, 'mmvitreg/models/fake.py', ranks) == [
        'mmvitreg/models/fake.py:2 imports mmvitreg.cli (cli, layer '
        f'{ranks["cli"]}, is not below models, layer {ranks["models"]})']
    assert len(upward_imports(
        relative_up, 'mmvitreg/datasets/transforms/fake.py', ranks)) == 1
    assert len(upward_imports(sideways, 'mmvitreg/models/fake.py',
                              ranks)) == 1
    assert upward_imports(down, 'mmvitreg/models/fake.py', ranks) == []
