"""Telling which task (scope) a suite config belongs to; loading it is
:func:`mmvitreg.utils.config.load_config`."""
from mmengine.config import Config

#: default_scope -> task name used by the tools.
TASKS = {'mmpretrain': 'cls', 'mmseg': 'seg'}


def task_of(cfg: Config) -> str:
    """``'cls'`` or ``'seg'``, from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ValueError(
            f'{cfg.filename}: default_scope must be one of {sorted(TASKS)} '
            f'(it picks mmpretrain or mmseg registries), got {scope!r}')
    return TASKS[scope]
