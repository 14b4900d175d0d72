"""Stage (e) of ``benchmarks/gpu_acceptance.py``: the suite's tools run as
a user runs them (subprocesses), on the embedded digits data (not a test).

* :func:`train_demo` / :func:`test_demo`: ``tools/train.py`` (a few
  iterations, ``--amp`` on CUDA) and ``tools/test.py`` on its checkpoint;
* :func:`kill_and_resume`: an uninterrupted run, a run killed with
  SIGKILL after iteration 3 (``tests/sigkill_hook.py``) and its
  ``--resume``; weights and optimizer state compared with ``torch.equal``
  under ``randomness.deterministic=True``;
* :func:`torchrun_fsdp`: ``torchrun --nproc_per_node 1`` on the FSDP demo
  (NCCL on CUDA, gloo on the CPU).

The data options reuse the tests' helpers (``tests/tool_runner.py``),
which travel with the repository.
"""
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TESTS = osp.join(ROOT, 'tests')
sys.path.insert(0, TESTS)
from tool_runner import data_options  # noqa: E402

SEG_LAYOUT = {'cityscapes': 'cityscapes'}
FSDP_DEMO = 'configs/demo/deit3_tiny_digits_fsdp.py'
#: The demo configs ``tools/train.py`` runs directly (the FSDP one runs
#: through torchrun; the token-labeling one needs a label store).
DEMOS = ('vit_tiny_digits', 'vit_tiny_digits_diverse',
         'vit_tiny_digits_patchmix', 'vit_tiny_digits_token_labeling',
         'deit3_tiny_digits', 'deit3_tiny_digits_ce', 'swin_tiny_digits',
         'resnet_tiny_digits_annotator', 'upernet_vit_tiny_digits_ade20k',
         'upernet_deit3_tiny_digits_ade20k',
         'upernet_swin_tiny_digits_ade20k',
         'upernet_vit_tiny_digits_cityscapes')


def prepare(work: str) -> Dict[str, str]:
    """The small digits tree (as the tests') and a random token-label
    store for the token-labeling demo."""
    from random_token_labels import random_token_label_store

    from mmvitreg.datasets.digits import prepare_digits
    root = prepare_digits(osp.join(work, 'digits'), size=32, scene_size=64,
                          train_scenes=24, val_scenes=8, seed=0)['root']
    store = random_token_label_store(root, osp.join(work, 'token_labels'),
                                     48)
    return dict(root=root, store=store)


def demo_options(config: str, data: Dict[str, str]) -> List[str]:
    """A few iterations of demo ``config`` on the digits tree."""
    name = osp.basename(config)[:-3]
    if name.startswith('upernet'):
        layout = 'cityscapes' if 'cityscapes' in name else 'ade'
        return [*data_options(data['root'], layout, train_size=8,
                              val_size=4),
                'train_dataloader.batch_size=2',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
                'default_hooks.checkpoint.interval=3',
                'model.backbone.init_cfg=None']
    opts = [*data_options(data['root'], 'imagenet', train_size=16,
                          val_size=8),
            'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=2', 'default_hooks.checkpoint.interval=1']
    if 'token_labeling' in name:
        opts.append(
            f'train_dataloader.dataset.pipeline.1.store_root={data["store"]}')
    return opts


def _run(args: List[str], timeout: float,
         env: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    full = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [TESTS, os.environ.get('PYTHONPATH', '')]),
        CUBLAS_WORKSPACE_CONFIG=':4096:8', **(env or {}))
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=full,
                              capture_output=True, text=True,
                              timeout=max(timeout, 1))
        rc, log = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as err:
        rc, log = 'timeout', str(err.stdout or '') + str(err.stderr or '')
    return dict(rc=rc, seconds=round(time.perf_counter() - start, 1),
                log=log)


def _amp(cuda: bool) -> List[str]:
    # mmengine's AmpOptimWrapper refuses a machine without an accelerator.
    return ['--amp'] if cuda else []


def train_demo(config: str, work_dir: str, data: Dict[str, str], cuda: bool,
               timeout: float, extra: List[str] = ()) -> Dict[str, object]:
    return _run(['tools/train.py', config, '--work-dir', work_dir,
                 '--no-validate', *_amp(cuda), *extra, '--cfg-options',
                 *demo_options(config, data)], timeout)


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def test_demo(config: str, checkpoint: str, data: Dict[str, str],
              timeout: float) -> Dict[str, object]:
    opts = [o for o in demo_options(config, data) if o.startswith(
        ('val_', 'test_', 'train_dataloader.dataset.data_root'))]
    return _run(['tools/test.py', config, checkpoint, '--cfg-options',
                 'test_dataloader.num_workers=0', *opts], timeout)


def _kill_config(work: str, config: str) -> str:
    path = osp.join(work, 'kill_' + osp.basename(config))
    with open(path, 'w') as f:
        f.write(f'_base_ = {osp.join(ROOT, config)!r}\n'
                "custom_imports = dict(imports=['mmvitreg', 'sigkill_hook'],"
                ' allow_failed_imports=False)\n'
                "custom_hooks = [dict(type='SigkillHook')]\n")
    return path


def _same_state(a: dict, b: dict) -> Dict[str, object]:
    weights = [k for k in b['state_dict']
               if not torch.equal(a['state_dict'][k], b['state_dict'][k])]
    moments = 0
    for idx, slots in b['optimizer']['state'].items():
        for slot, value in slots.items():
            other = a['optimizer']['state'][idx][slot]
            if torch.is_tensor(value) and not torch.equal(value, other):
                moments += 1
    return dict(tensors=len(b['state_dict']), weights_differ=len(weights),
                optimizer_slots_differ=moments,
                equal=not weights and not moments)


def kill_and_resume(config: str, work: str, data: Dict[str, str],
                    cuda: bool, timeout: float) -> Dict[str, object]:
    """Uninterrupted vs killed-after-iteration-3-and-resumed, bit for bit
    (2 epochs of 2 iterations, a checkpoint every 2 iterations). The
    uninterrupted run is also the "train" check of ``config``
    (``_reference``: its work dir)."""
    os.makedirs(work, exist_ok=True)
    kill = _kill_config(work, config)
    opts = [*demo_options(config, data), 'randomness.seed=0',
            'randomness.deterministic=True',
            'default_hooks.checkpoint.by_epoch=False',
            'default_hooks.checkpoint.interval=2']
    runs = {}
    for name, extra, more in (
            ('reference', [], []),
            ('killed', [], ['custom_hooks.0.after_iter=3']),
            ('resumed', ['--resume'], [])):
        work_dir = osp.join(work, 'kill' if name != 'reference' else name)
        runs[name] = _run(['tools/train.py', kill, '--work-dir', work_dir,
                           '--no-validate', *_amp(cuda), *extra,
                           '--cfg-options', *opts, *more], timeout / 3)
    out = {name: dict(rc=r['rc'], seconds=r['seconds'])
           for name, r in runs.items()}
    out['_reference'] = osp.join(work, 'reference')
    if runs['reference']['rc'] == 0 and runs['resumed']['rc'] == 0:
        load = dict(map_location='cpu', weights_only=False)
        ref = torch.load(osp.join(work, 'reference', 'iter_4.pth'), **load)
        res = torch.load(osp.join(work, 'kill', 'iter_4.pth'), **load)
        out.update(_same_state(res, ref))
    else:
        out['equal'] = False
        out['log'] = runs['resumed']['log'][-3000:]
    return out


def torchrun_fsdp(work: str, data: Dict[str, str], cuda: bool,
                  timeout: float) -> Dict[str, object]:
    """``torchrun --nproc_per_node 1`` on the FSDP demo (NCCL on CUDA)."""
    return _run(['-m', 'torch.distributed.run', '--nproc_per_node', '1',
                 'tools/train.py', FSDP_DEMO, '--launcher', 'pytorch',
                 '--work-dir', osp.join(work, 'fsdp'), '--no-validate',
                 *_amp(cuda), '--cfg-options',
                 *demo_options(FSDP_DEMO, data)], timeout,
                env=dict(OMP_NUM_THREADS='1'))
