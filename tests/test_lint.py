"""The repository passes its linter (ruff; rules in pyproject.toml
``[tool.ruff]``: pyflakes, pycodestyle, isort and bugbear at 79 columns).

Run inside pytest so that the one test command also lints; ruff is pinned in
requirements.txt, so a missing ruff is a broken install and fails here.
"""
import subprocess
import sys
import textwrap

from tool_runner import ROOT


def _ruff(*args: str, cwd: str = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'ruff', *args],
                          cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_repository_passes_ruff():
    result = _ruff('check', '--no-cache', '--output-format', 'concise', '.')
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_uses_the_repository_rules(tmp_path):
    """Control: the same call on a file breaking each rule family (an unused
    import, a 80-column line, unsorted imports, a mutable default) reports
    all four, so a pass above means the rules ran."""
    bad = tmp_path / 'mmvitreg_lint_probe.py'
    bad.write_text(textwrap.dedent('''\
        import sys
        import os


        def f(x=[]):
            return x  # ''' + 'x' * 70 + '''
        '''))
    result = _ruff('check', '--no-cache', '--output-format', 'concise',
                   '--config', f'{ROOT}/pyproject.toml', str(bad),
                   cwd=str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    for code in ('F401', 'E501', 'I001', 'B006'):
        assert code in result.stdout, (code, result.stdout)
