"""Quiet tools: the stack's known harmless warnings are filtered (by
message, in one place), and mmengine's start-up listings go to the log
file, not to the console."""
import logging
import os.path as osp
import subprocess
import sys

from mmengine.logging import MMLogger
from tool_runner import ADE_CONFIG, ROOT

from mmvitreg.cli.console_log import quiet_console_listings
from mmvitreg.compat.known_warnings import KNOWN_HARMLESS

WARN = ('import warnings, sys; warnings.simplefilter("default"); {setup}\n'
        'for m in {messages!r}:\n'
        '    warnings.warn(m + " (test)", UserWarning)\n'
        'warnings.warn("an unknown warning", UserWarning)\n')
MESSAGES = ["pkg_resources is deprecated as an API. See https://...",
            "Only use 'alpha' for pillow backend.",
            '`reduce_zero_label` will be deprecated, if you would like ...',
            '``build_loss`` would be deprecated soon, please use ...']


def _stderr(setup: str) -> str:
    code = WARN.format(setup=setup, messages=MESSAGES)
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120, cwd=osp.expanduser('~')
                          ).stderr


def test_known_warnings_are_filtered_and_others_are_not():
    err = _stderr('from mmvitreg.compat.known_warnings import '
                  'filter_known_warnings; filter_known_warnings()')
    assert 'an unknown warning' in err
    assert '(test)' not in err, err
    # the control: without the filters every one of them is printed
    assert _stderr('').count('(test)') == len(MESSAGES)


def test_fsdp_deprecations_are_listed():
    messages = [m for m, _ in KNOWN_HARMLESS]
    assert any('FSDP' in m for m in messages)
    assert any('FullyShardedDataParallel' in m for m in messages)


def test_a_fresh_python_resolves_mmseg_bases_without_pkg_resources_noise():
    """mmengine imports pkg_resources to find ``mmseg::`` bases; in any
    Python of the venv the startup hook has filtered its warning."""
    load = ('from mmengine.config import Config; '
            f'Config.fromfile({osp.join(ROOT, ADE_CONFIG)!r})')
    reset = 'import warnings; warnings.resetwarnings(); '

    def stderr(code):
        proc = subprocess.run([sys.executable, '-W', 'default', '-c', code],
                              capture_output=True, text=True, timeout=600,
                              cwd=osp.expanduser('~'))
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stderr

    assert 'pkg_resources is deprecated' not in stderr(load)
    # the control: with the filters reset, the warning is there
    assert 'pkg_resources is deprecated' in stderr(reset + load)


def test_listings_go_to_the_file_not_the_console(tmp_path, capsys):
    log_file = tmp_path / 'run.log'
    logger = MMLogger.get_instance('quiet_test', log_file=str(log_file),
                                   log_level='INFO')
    quiet_console_listings(logger)
    quiet_console_listings(logger)  # idempotent
    logger.info('\n' + '-' * 60 + '\nSystem environment:\n    sys.platform')
    logger.info('Config:\nmodel = dict()')
    logger.info('Hooks will be executed in the following order:\nbefore')
    logger.info('Iter(test) [1/1]    aAcc: 4.4000  mIoU: 0.7300')
    for handler in logger.handlers:
        handler.flush()
    console = capsys.readouterr()
    console = console.out + console.err
    assert 'mIoU: 0.7300' in console
    for listing in ('System environment', 'Config:', 'Hooks will be'):
        assert listing not in console
        assert log_file.read_text().count(listing) == 1
    logging.getLogger('quiet_test').handlers.clear()
