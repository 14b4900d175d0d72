"""Loading a suite config: ``Config.fromfile`` with ``--cfg-options`` and
the OpenMMLab work-dir rule. Below every package that loads configs (the
tools' library in ``cli/``, ``analysis/``), so none has to reach up into the
command-line layer for it."""
import os.path as osp
from typing import Optional

from mmengine.config import Config


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """``Config.fromfile`` with ``--cfg-options`` and the work-dir rule.

    The work dir is chosen as in OpenMMLab tools: CLI > ``work_dir`` in the
    file > ``./work_dirs/<config name>``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        # `num_workers=0` (debugging, CPU tests) with a base that sets
        # persistent workers would make torch's DataLoader refuse to start.
        if loader and loader.get('num_workers', 1) == 0:
            loader['persistent_workers'] = False
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg
