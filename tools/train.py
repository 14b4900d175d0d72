"""Train any mmvitreg config: pretraining (mmpretrain) or segmentation (mmseg).

The task is chosen from the config's ``default_scope``; every argument
follows the OpenMMLab tools:

    python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--no-validate] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi] [--trust-checkpoint]

Multi-process: ``tools/dist_train.sh CONFIG GPUS`` (torchrun) or
``tools/slurm_train.sh``; mmengine's launchers and DDP do the rest (on a
machine without GPU, torchrun runs use the gloo backend).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvitreg  # noqa: E402,F401  (compat layer before mmseg, registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from mmvitreg.cli import (  # noqa: E402
    build_runner,
    check_class_count,
    check_data_paths,
    check_pretrained_files,
    task_of,
)
from mmvitreg.cli.parent_watch import die_with_launcher  # noqa: E402
from mmvitreg.cli.resume_checkpoint import require_readable  # noqa: E402
from mmvitreg.cli.work_dir_lock import lock_work_dir  # noqa: E402
from mmvitreg.compat import TRUST_ENV_VAR  # noqa: E402
from mmvitreg.engine.process_group import process_group  # noqa: E402
from mmvitreg.utils.config import load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a model',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models '
                        "(None: the config's, else work_dirs/<config name>)")
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or without a value from the latest '
        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (AmpOptimWrapper)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by actual/base batch size')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help=f'load checkpoints with arbitrary pickled '
                        f'objects (sets {TRUST_ENV_VAR}=1)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings, e.g. train_cfg.max_epochs=5 '
        'model.backbone.init_cfg.checkpoint=PATH')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='set by the launcher (LOCAL_RANK)')
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Apply the CLI flags to the config (as mmpretrain/mmseg tools do)."""
    task_of(cfg)  # fails early on a config of no known scope
    cfg.launcher = args.launcher
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        require_readable(args.resume)  # before the Runner makes any folder
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError(f'{args.config}: --auto-scale-lr needs '
                           '`auto_scale_lr = dict(base_batch_size=...)`')
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None) -> None:
    die_with_launcher()  # a rank of a killed torchrun stops with it
    args = parse_args(argv)
    if args.trust_checkpoint:
        os.environ[TRUST_ENV_VAR] = '1'
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg = merge_args(cfg, args)
    # Fail on missing data before the Runner creates or writes the work dir.
    check_data_paths(cfg, train=True)
    check_class_count(cfg)
    check_pretrained_files(cfg)
    lock = lock_work_dir(cfg.work_dir)  # noqa: F841  (held until main ends)
    with process_group(cfg, args.launcher):
        train(cfg)


def train(cfg) -> None:
    """Build the Runner and train; the Runner (which holds the process
    group) is garbage once this returns, see ``process_group``."""
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
