"""The Runner the tools build: mmengine's, minus one overwrite.

mmengine's ``Runner`` dumps the config to ``<work_dir>/<config name>.py`` at
the end of ``__init__``, replacing the dump of any earlier run in the same
work dir, including when the new run then fails (bad data, bad checkpoint).
:class:`WorkDirSafeRunner` writes the dump into the run's own timestamped log
dir instead (``<work_dir>/<timestamp>/<config name>.py``, next to its log),
so a run never overwrites what an earlier run left in the work dir:
checkpoints and ``last_checkpoint`` are written only on success.
"""
import os.path as osp

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


@RUNNERS.register_module()
class WorkDirSafeRunner(Runner):
    """``mmengine.runner.Runner`` that keeps each run's config in its log
    dir."""

    def dump_config(self) -> None:
        name = (osp.basename(self.cfg.filename)
                if self.cfg.filename else f'{self.timestamp}.py')
        self.cfg.dump(osp.join(self.log_dir, name))


def build_runner(cfg: Config) -> Runner:
    """``runner_type`` from the config if set (e.g. ``FlexibleRunner`` for
    FSDP/DeepSpeed), else :class:`WorkDirSafeRunner`."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return WorkDirSafeRunner.from_cfg(cfg)
