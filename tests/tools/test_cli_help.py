"""Every flag of every command-line tool has a help text, and ``--help``
shows its default (argparse's ``ArgumentDefaultsHelpFormatter``)."""
import argparse
import glob
import importlib.util
import inspect
import os.path as osp

import pytest
from tool_runner import ROOT

TOOLS = sorted(osp.relpath(p, ROOT) for p in
               glob.glob(osp.join(ROOT, 'tools', '*.py')) +
               glob.glob(osp.join(ROOT, 'tools', 'analysis', '*.py')))


class _Parsed(Exception):
    """Raised instead of parsing: carries the tool's parser."""

    def __init__(self, parser):
        self.parser = parser


def tool_parser(path: str) -> argparse.ArgumentParser:
    """The parser ``path`` builds: its ``parse_args`` (or ``main``) is
    called with ``ArgumentParser.parse_args`` patched to hand the parser
    back before parsing anything."""
    spec = importlib.util.spec_from_file_location(
        'cli_' + osp.basename(path)[:-3], osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry = getattr(module, 'parse_args', None) or module.main
    original = argparse.ArgumentParser.parse_args

    def capture(self, *args, **kwargs):
        raise _Parsed(self)

    argparse.ArgumentParser.parse_args = capture
    try:
        entry(*([[]] if inspect.signature(entry).parameters else []))
    except _Parsed as parsed:
        return parsed.parser
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f'{path}: no argparse parser found')


def test_the_tools_are_found():
    assert {'tools/train.py', 'tools/test.py', 'tools/infer.py',
            'tools/generate_token_labels.py', 'tools/demo.py',
            'tools/analysis/patch_similarity.py'} <= set(TOOLS)


@pytest.mark.parametrize('path', TOOLS)
def test_every_flag_has_help_and_shows_its_default(path):
    parser = tool_parser(path)
    assert issubclass(parser.formatter_class,
                      argparse.ArgumentDefaultsHelpFormatter), path
    missing = [action.dest for action in parser._actions
               if not isinstance(action, argparse._HelpAction)
               and not (action.help or '').strip()]
    assert not missing, f'{path}: no help for {missing}'
    formatter = parser._get_formatter()
    hidden = [action.dest for action in parser._actions
              if action.option_strings and action.default not in (
                  None, False, argparse.SUPPRESS)
              and '%(default)' not in formatter._get_help_string(action)]
    assert not hidden, f'{path}: defaults not shown for {hidden}'


def test_help_text_shows_defaults():
    text = ' '.join(tool_parser('tools/generate_token_labels.py')
                    .format_help().split())
    assert ('--topk TOPK scores kept per token (the store is top-k) '
            '(default: 5)') in text
    assert '(the unit of resuming) (default: 1024)' in text
