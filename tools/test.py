"""Evaluate a checkpoint: top-1/top-5 (classifiers) or aAcc/mIoU/mAcc with a
per-class IoU table (segmenters), chosen from the config's ``default_scope``.

    python tools/test.py CONFIG CKPT [--work-dir D] [--out F]
        [--show-dir D [--interval N]] [--tta] [--cfg-options k=v ...]
        [--launcher ...] [--trust-checkpoint]

``--out``: classifiers dump predictions to the pickle file F (mmengine
``DumpResults``); segmenters write one prediction PNG per image,
``F/<image basename>.png``, while still evaluating (IoUMetric
``output_dir``, ``format_only`` off), in the dataset's label format:
ADE20K layout (``reduce_zero_label``): class index + 1, as the annotation
files; the 19 Cityscapes classes: the labelIds of the official server (7 =
road, ..., 33 = bicycle, ``CityscapesLabelIdIoUMetric`` replaces
``IoUMetric``); the digits Cityscapes stand-in, which has no labelIds: its
trainIds unchanged (0 = background, 1 + d = digit d), as its
``*_labelTrainIds.png``.
``--show-dir D``: every ``--interval``-th image (default: every one) with
its prediction painted, as mmpretrain's and mmseg's tools (classifiers:
``D/<image name>_0.png``, mmpretrain's ``VisualizationHook``;
segmenters: ``D/vis_data/vis_image/test_<image name>_0.png``, mmseg's
visualizer; ``SegSampleVisualizationHook`` makes its interval count images,
not batches).
The checkpoint is loaded strictly: any missing or unexpected key is an error
naming the file. The final metrics are printed and written to
``<work_dir>/test_metrics.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from copy import deepcopy

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvitreg  # noqa: E402,F401  (compat layer before mmseg, registration)

# isort: split
from mmengine.config import ConfigDict, DictAction  # noqa: E402

from mmvitreg.cli import (  # noqa: E402
    build_runner,
    check_data_paths,
    load_checkpoint_strict,
    task_of,
    unshard_for_test,
)
from mmvitreg.cli.parent_watch import die_with_launcher  # noqa: E402
from mmvitreg.compat import TRUST_ENV_VAR  # noqa: E402
from mmvitreg.datasets.transforms import tta_pipeline_with_check  # noqa: E402
from mmvitreg.engine.process_group import process_group  # noqa: E402
from mmvitreg.evaluation import has_cityscapes_classes  # noqa: E402
from mmvitreg.utils.config import load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a checkpoint',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics '
                        '(None: the config\'s, else work_dirs/<config name>)')
    parser.add_argument('--out', help='classifiers: predictions pickle file; '
                        'segmenters: directory for prediction PNGs')
    parser.add_argument('--show-dir', help='directory for images with the '
                        'prediction painted (overlays)')
    parser.add_argument('--interval', type=int, default=1,
                        help='with --show-dir: paint every N-th image')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation (seg: multi-scale + flip '
                        'from the config; cls: flip)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow arbitrary pickled objects '
                        f'({TRUST_ENV_VAR})')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='set by the launcher (LOCAL_RANK)')
    args = parser.parse_args(argv)
    if args.interval < 1:
        parser.error(f'--interval must be >= 1, got {args.interval}')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _visualization_hook(cfg) -> ConfigDict:
    """``default_hooks.visualization``, which ``--show-dir`` switches on."""
    vis = cfg.default_hooks.get('visualization')
    if vis is None:
        raise KeyError(f'{cfg.filename}: --show-dir needs '
                       'default_hooks.visualization')
    return vis


def _classification_args(cfg, args):
    if args.out:
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(
            dict(type='DumpResults', out_file_path=args.out))
    if args.show_dir:
        vis = _visualization_hook(cfg)
        vis.update(enable=True, out_dir=args.show_dir, interval=args.interval)
    if args.tta:
        cfg.setdefault('tta_model', dict(type='AverageClsScoreTTA'))
        if 'tta_pipeline' not in cfg:
            test_pipeline = cfg.test_dataloader.dataset.pipeline
            cfg.tta_pipeline = deepcopy(test_pipeline)
            cfg.tta_pipeline[-1] = dict(
                type='TestTimeAug',
                transforms=[[dict(type='RandomFlip', prob=1.),
                             dict(type='RandomFlip', prob=0.)],
                            [test_pipeline[-1]]])
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def _segmentation_args(cfg, args):
    if args.out:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
        if (cfg.test_evaluator.get('type') in ('IoUMetric', 'mmseg.IoUMetric')
                and has_cityscapes_classes(cfg.test_dataloader.dataset)):
            cfg.test_evaluator['type'] = 'CityscapesLabelIdIoUMetric'
    if args.show_dir:
        vis = _visualization_hook(cfg)
        # mmseg's hook counts batches; this one counts images, as mmpretrain
        vis.update(type='SegSampleVisualizationHook', draw=True,
                   interval=args.interval)
        cfg.visualizer['save_dir'] = args.show_dir
    if args.tta:
        for key in ('tta_model', 'tta_pipeline'):
            if key not in cfg:
                raise KeyError(f'{cfg.filename}: --tta needs `{key}`')
        cfg.test_dataloader.dataset.pipeline = tta_pipeline_with_check(
            cfg.tta_pipeline, cfg.test_dataloader.dataset.pipeline)
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model


def main(argv=None) -> dict:
    die_with_launcher()  # a rank of a killed torchrun stops with it
    args = parse_args(argv)
    if args.trust_checkpoint:
        os.environ[TRUST_ENV_VAR] = '1'
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint file not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg.launcher = args.launcher
    cfg.load_from = None  # loaded strictly below
    if task_of(cfg) == 'cls':
        _classification_args(cfg, args)
    else:
        _segmentation_args(cfg, args)
    check_data_paths(cfg, train=False)
    if unshard_for_test(cfg):
        print('FSDP config: evaluating the full checkpoint unsharded '
              "(mmengine's Runner)")
    with process_group(cfg, args.launcher):
        metrics, rank = evaluate(cfg, args.checkpoint)
    if rank == 0:
        metrics = {k: float(v) if hasattr(v, '__float__') else v
                   for k, v in metrics.items()}
        out = osp.join(cfg.work_dir, 'test_metrics.json')
        with open(out, 'w') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                           metrics=metrics), f, indent=2)
        print(json.dumps(metrics, indent=2))
    return metrics


def evaluate(cfg, checkpoint: str):
    """Build the Runner, load ``checkpoint`` strictly and test; returns
    the metrics and this process's rank. The Runner (which holds the
    process group) is garbage once this returns, see ``process_group``."""
    runner = build_runner(cfg)
    load_checkpoint_strict(runner, checkpoint)
    return runner.test(), runner.rank


if __name__ == '__main__':
    main()
