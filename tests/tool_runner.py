"""Helpers to run the suite's tools the way a user does (subprocess)."""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLS_CONFIG = 'configs/demo/vit_tiny_digits.py'
ADE_CONFIG = 'configs/demo/upernet_vit_tiny_digits_ade20k.py'
CITYSCAPES_CONFIG = 'configs/demo/upernet_vit_tiny_digits_cityscapes.py'
SWIN_CLS_CONFIG = 'configs/demo/swin_tiny_digits.py'
SWIN_ADE_CONFIG = 'configs/demo/upernet_swin_tiny_digits_ade20k.py'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def data_options(root: str, layout: str, train_size: int = 0,
                 val_size: int = 0) -> List[str]:
    """``--cfg-options`` pointing a demo config at the digits tree ``root``."""
    sub = {'imagenet': 'imagenet', 'ade': 'ade/ADEChallengeData2016',
           'cityscapes': 'cityscapes'}[layout]
    opts = [f'{loader}.dataset.data_root={osp.join(root, sub)}'
            for loader in LOADERS]
    if train_size:
        opts.append(f'train_dataloader.dataset.indices={train_size}')
    if val_size:
        opts += [f'{loader}.dataset.indices={val_size}'
                 for loader in LOADERS[1:]]
    return opts


def run_tool(args: List[str], timeout: int = 600,
             env: Dict[str, str] = None) -> subprocess.CompletedProcess:
    """Run ``python tools/...`` in the repository root."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


#: What a rank prints when it aborts at exit (see
#: ``mmvitreg/engine/process_group.py``): a failure even with exit code 0.
ABORT = 'terminate called'


def launch(cmd: List[str], timeout: int = 600,
           env: Dict[str, str] = None) -> Tuple[int, str]:
    """Run a multi-process launch (``torchrun``, ``dist_train.sh``) in the
    repository root; returns the exit code and stdout + stderr.

    No port is chosen here: without ``PORT`` (removed from the
    environment), ``dist_launch.sh`` and ``torchrun`` let the rendezvous
    store bind a free port itself, so no other process can take it between
    a choice and its use. One thread per rank, so that two ranks on two
    cores do not oversubscribe them; faulthandler on, so that a rank that
    dies prints its Python stack.
    """
    full_env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
                    PYTHONFAULTHANDLER='1', **(env or {}))
    full_env.pop('PORT', None)
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    rc = proc.returncode
    if rc == 0 and ABORT in log:
        rc = -6  # a rank aborted; torchrun can still exit 0 on some paths
    return rc, log


def torchrun(script_args: List[str], nproc: int = 2,
             timeout: int = 600) -> Tuple[int, str]:
    """``python -m torch.distributed.run --nproc_per_node N SCRIPT ARGS``."""
    return launch([sys.executable, '-m', 'torch.distributed.run',
                   '--nproc_per_node', str(nproc), *script_args], timeout)


def dist_train(config: str, *args: str, nproc: int = 2,
               timeout: int = 600) -> Tuple[int, str]:
    """``tools/dist_train.sh CONFIG N ARGS``, as a user runs it."""
    return launch(['bash', 'tools/dist_train.sh', config, str(nproc), *args],
                  timeout)


def snapshot(work_dir: str) -> Dict[str, bytes]:
    """Every file under ``work_dir`` with its bytes."""
    files = {}
    for base, _, names in os.walk(work_dir):
        for name in names:
            path = osp.join(base, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path, work_dir)] = f.read()
    return files


def seg_dataset(config: str, root: str, loader: str, tta: bool = False):
    """The mmseg dataset of ``config``'s ``loader`` on the digits tree
    ``root``, read from the training split (whose files tests may edit);
    ``tta``: with the pipeline ``tools/test.py --tta`` uses."""
    import copy

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    layout = 'cityscapes' if 'cityscapes' in config else 'ade'
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(dict(o.split('=', 1)
                             for o in data_options(root, layout)))
    init_default_scope('mmseg')
    ds_cfg = copy.deepcopy(cfg[loader].dataset)
    ds_cfg.data_prefix = cfg.train_dataloader.dataset.data_prefix
    if tta:
        from mmvitreg.datasets.transforms import tta_pipeline_with_check
        ds_cfg.pipeline = tta_pipeline_with_check(cfg.tta_pipeline,
                                                  ds_cfg.pipeline)
    return DATASETS.build(ds_cfg)
