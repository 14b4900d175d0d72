"""The Runners the tools build: mmengine's ``Runner`` and
``FlexibleRunner`` (FSDP), minus one overwrite, plus kill-safe resuming.

mmengine's ``Runner`` dumps the config to ``<work_dir>/<config name>.py`` at
the end of ``__init__``, replacing the dump of any earlier run in the same
work dir, including when the new run then fails (bad data, bad checkpoint).
:class:`WorkDirSafeRunner` writes the dump into the run's own timestamped log
dir instead (``<work_dir>/<timestamp>/<config name>.py``, next to its log),
so a run never overwrites what an earlier run left in the work dir:
checkpoints and ``last_checkpoint`` are written only on success.

It also builds mmvitreg's resumable train loops in place of mmengine's two
default ones (bit-exact mid-epoch resume,
:mod:`mmvitreg.engine.runner.resumable_loops`), and resumes from the newest
*readable* checkpoint (:mod:`.resume_checkpoint`).

A config with ``runner_type = 'FlexibleRunner'`` (the FSDP configs) gets
:class:`WorkDirSafeFlexibleRunner`, mmengine's ``FlexibleRunner`` with the
same three changes; any other ``runner_type`` is built as named.
"""
import copy
import os.path as osp
from typing import Union

from mmengine.config import Config
from mmengine.dist import master_only
from mmengine.registry import RUNNERS
from mmengine.runner import BaseLoop, FlexibleRunner, Runner

from mmvitreg.engine.runner.fsdp import is_fsdp

from .console_log import quiet_console_listings
from .resume_checkpoint import find_resumable_checkpoint, require_readable

#: mmengine's default train loops -> their resumable versions.
RESUMABLE_LOOPS = {
    'EpochBasedTrainLoop': 'ResumableEpochBasedTrainLoop',
    'IterBasedTrainLoop': 'ResumableIterBasedTrainLoop',
}


class _SafeRunnerMixin:
    """Config dump in the log dir, resumable loops, checked resume, the
    environment/config/hook listings in the log file only."""

    def build_logger(self, *args, **kwargs):
        """mmengine's logger, whose console skips the start-up listings
        (:mod:`.console_log`); the log file keeps them."""
        logger = super().build_logger(*args, **kwargs)
        quiet_console_listings(logger)
        return logger

    @master_only
    def dump_config(self) -> None:
        name = (osp.basename(self.cfg.filename)
                if self.cfg.filename else f'{self.timestamp}.py')
        self.cfg.dump(osp.join(self.log_dir, name))

    def build_train_loop(self, loop: Union[BaseLoop, dict]) -> BaseLoop:
        """mmengine's, with the resumable loop for ``by_epoch`` or
        ``type='EpochBasedTrainLoop'|'IterBasedTrainLoop'``."""
        if isinstance(loop, dict):
            loop = copy.deepcopy(loop)
            if 'type' not in loop:
                by_epoch = loop.pop('by_epoch')
                loop['type'] = ('EpochBasedTrainLoop'
                                if by_epoch else 'IterBasedTrainLoop')
            loop['type'] = RESUMABLE_LOOPS.get(loop['type'], loop['type'])
        return super().build_train_loop(loop)

    def load_or_resume(self) -> None:
        """mmengine's, except that resuming checks the file first: an
        explicit unreadable checkpoint fails naming it; the automatic one
        skips unreadable files (warning) for the newest readable one."""
        if self._has_loaded or not self._resume:
            return super().load_or_resume()
        if self._load_from is not None:
            require_readable(self._load_from)
            path = self._load_from
        else:
            path = find_resumable_checkpoint(self.work_dir,
                                             self.logger.warning)
            if path is None:
                self.logger.info(
                    f'--resume: no checkpoint in {self.work_dir}, training '
                    'from the start.')
                return None
            self.logger.info(f'Auto resumed from the latest checkpoint '
                             f'{path}.')
        self.resume(path)
        self._has_loaded = True


@RUNNERS.register_module()
class WorkDirSafeRunner(_SafeRunnerMixin, Runner):
    """``mmengine.runner.Runner`` that keeps each run's config in its log
    dir, with resumable loops and checked resume (module doc)."""

    def build_optim_wrapper(self, optim_wrapper):
        """mmengine's, with plain-dict param groups: mmengine's
        constructor leaves ``ConfigDict`` groups, which TorchDynamo cannot
        trace, so ``cfg.compile`` (which compiles ``train_step``, optimizer
        step included) would fail on torch 2.14."""
        wrapper = super().build_optim_wrapper(optim_wrapper)
        wrappers = getattr(wrapper, 'optim_wrappers', {'': wrapper})
        for each in wrappers.values():
            groups = each.optimizer.param_groups
            groups[:] = [dict(group) for group in groups]
        return wrapper


@RUNNERS.register_module()
class WorkDirSafeFlexibleRunner(_SafeRunnerMixin, FlexibleRunner):
    """``mmengine.runner.FlexibleRunner`` (strategies: FSDP, DeepSpeed)
    with the config dump, resumable loops and checked resume of
    :class:`WorkDirSafeRunner`. (An ``EMAHook`` of one rank's FSDP slices
    is refused by ``RecipeFSDPStrategy`` itself, under any runner.)"""


def unshard_for_test(cfg: Config) -> bool:
    """Evaluate an FSDP config with mmengine's ``Runner`` (DDP under a
    launcher): the suite's FSDP checkpoints are full state dicts, and
    ``FlexibleRunner`` only shards the model inside ``test()``, after the
    strict load ``tools/test.py`` does first (and FSDP needs a process
    group even for one process). Returns whether ``cfg`` was changed."""
    if not is_fsdp(cfg):
        return False
    cfg.pop('runner_type')
    cfg.pop('strategy')
    return True


#: ``runner_type`` -> the runner the tools build for it
SAFE_RUNNERS = {
    'Runner': WorkDirSafeRunner,
    'FlexibleRunner': WorkDirSafeFlexibleRunner,
}


def build_runner(cfg: Config):
    """:class:`WorkDirSafeRunner`, or :class:`WorkDirSafeFlexibleRunner`
    for ``runner_type='FlexibleRunner'``; any other ``runner_type`` is
    built from the registry as named."""
    runner_type = cfg.get('runner_type', 'Runner')
    if runner_type in SAFE_RUNNERS:
        return SAFE_RUNNERS[runner_type].from_cfg(cfg)
    return RUNNERS.build(cfg)
