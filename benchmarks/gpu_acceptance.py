"""Everything CUDA-specific in one command, for a first GPU hour (not a
test).

    python benchmarks/gpu_acceptance.py --out DIR [--budget-s 420]
        [--dry-run] [--work-dir W]

Stages, cheapest and most informative first; ``DIR/gpu_acceptance.json``
and ``DIR/gpu_acceptance.md`` are rewritten after every stage (and every
item of a stage), so a run cut short still leaves what was done:

(a) environment: GPU, torch / CUDA versions, bf16 matmul TFLOP/s (the
    practical peak that MFU divides by);
(b) each full pretraining family: AMP (bf16) train steps of the real model
    at the recipe's per-GPU batch on synthetic tensors, through the
    config's model and optimizer wrapper: finite losses, step time,
    images/s, peak memory beside the memory plan's estimate
    (``tools/analysis/estimate_memory.py``, same batch, bf16, 1 GPU);
(c) MFU of DeiT-S24 baseline and diverse (FLOPs of one step from
    ``torch.utils.flop_counter`` / step time / (a)'s peak), and the
    suite-vs-timm and objective-vs-baseline step ratios of
    ``benchmarks/run_all.py`` on the device at the recipe's batch;
(d) UperNet Swin-L ADE20K and DeiT-S24 at 512 px: AMP train steps at the
    recipe's per-GPU batch, slide-inference images/s;
(e) the tools with ``--amp``: a few iterations of the demo configs,
    ``tools/test.py``, a SIGKILL and ``--resume`` ending ``torch.equal``
    (deterministic), ``torchrun --nproc_per_node 1`` on the FSDP demo over
    NCCL, and ``torch.compile`` (inductor) vs eager.

Each item checks the time left in ``--budget-s`` first and is recorded as
skipped when too little remains. Without CUDA the script exits 2;
``--dry-run`` runs every stage at tiny size on the CPU (the demo configs
in place of the full ones, fp32, compile with the eager backend) and is
what CI runs. Targets (not asserted): DeiT-S24 MFU >= 40% in bf16, each
objective <= 1.03x the baseline's step, suite vs timm <= 1.05x, estimated
vs measured peak memory within 15%.
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import time
from typing import Callable, Dict, Optional

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import acceptance_steps as steps  # noqa: E402
import acceptance_tools as tools  # noqa: E402

import mmvitreg  # noqa: E402,F401  (compat layer + registration)

#: family -> (full config, dry-run stand-in)
FAMILIES = {
    'DeiT-S24': ('configs/pretrain/deit_s24.py',
                 'configs/demo/vit_tiny_digits.py'),
    'DeiT-S24 diverse': ('configs/pretrain/deit_s24_diverse.py',
                         'configs/demo/vit_tiny_digits_diverse.py'),
    'DeiT-B24 diverse': ('configs/pretrain/deit_b24_diverse.py',
                         'configs/demo/vit_tiny_digits_diverse.py'),
    'LV-ViT-S token labeling': (
        'configs/pretrain/lvvit_s_token_labeling.py',
        'configs/demo/vit_tiny_digits_token_labeling.py'),
    'DeiT III-B': ('configs/pretrain/deit3_b_in1k.py',
                   'configs/demo/deit3_tiny_digits.py'),
    'Swin-B diverse': ('configs/pretrain/swin_b_diverse.py',
                       'configs/demo/swin_tiny_digits.py'),
    'Swin-L diverse': ('configs/pretrain/swin_l_diverse.py',
                       'configs/demo/swin_tiny_digits.py'),
}
SEGMENTORS = {
    'UperNet Swin-L ADE20K': (
        'configs/seg/upernet_swin_l_ade20k.py',
        'configs/demo/upernet_swin_tiny_digits_ade20k.py'),
    'UperNet DeiT-S24 ADE20K 512 px': (
        'configs/seg/upernet_deit_s24_ade20k.py',
        'configs/demo/upernet_vit_tiny_digits_ade20k.py'),
}
TARGETS = dict(mfu_deit_s24=0.40, objective_vs_baseline=1.03,
               suite_vs_timm=1.05, memory_estimate_error=0.15)


class Report:
    """The results so far, written as JSON and Markdown on every update."""

    def __init__(self, out: str, budget_s: float, dry_run: bool) -> None:
        os.makedirs(out, exist_ok=True)
        self.out = out
        self.start = time.perf_counter()
        self.budget_s = budget_s
        self.data: Dict[str, object] = dict(
            dry_run=dry_run, budget_s=budget_s, targets=TARGETS, stages={})

    def left(self) -> float:
        return self.budget_s - (time.perf_counter() - self.start)

    def record(self, stage: str, item: str, value) -> None:
        self.data['stages'].setdefault(stage, {})[item] = value
        self.data['elapsed_s'] = round(time.perf_counter() - self.start, 1)
        self.write()

    def write(self) -> None:
        with open(osp.join(self.out, 'gpu_acceptance.json'), 'w') as f:
            json.dump(self.data, f, indent=1, default=str)
        with open(osp.join(self.out, 'gpu_acceptance.md'), 'w') as f:
            f.write(markdown(self.data))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f'{value:.4g}'
    if isinstance(value, list):
        return ', '.join(_fmt(v) for v in value[:8])
    return str(value).replace('|', '\\|').replace('\n', ' ')[:200]


def markdown(data: dict) -> str:
    """One table per stage: item | key | value."""
    lines = ['# GPU acceptance', '',
             f"dry run: {data['dry_run']}, budget {data['budget_s']} s, "
             f"elapsed {data.get('elapsed_s')} s", '',
             'Targets (not asserted): ' + ', '.join(
                 f'{k} {v}' for k, v in data['targets'].items()), '']
    for stage, items in data['stages'].items():
        lines += [f'## {stage}', '', '| item | key | value |',
                  '|---|---|---|']
        for item, value in items.items():
            if isinstance(value, dict):
                for key, v in value.items():
                    if key != 'log':
                        lines.append(f'| {item} | {key} | {_fmt(v)} |')
            else:
                lines.append(f'| {item} | | {_fmt(value)} |')
        lines.append('')
    return '\n'.join(lines)


def guarded(report: Report, stage: str, item: str, need_s: float,
            fn: Callable[[], object]) -> Optional[object]:
    """Run ``fn`` when ``need_s`` seconds are left; record its result or
    its error (the next item still runs)."""
    if report.left() < need_s:
        report.record(stage, item, dict(skipped=f'budget: {report.left():.0f}'
                                        f' s left, needs ~{need_s:.0f} s'))
        return None
    start = time.perf_counter()
    try:
        value = fn()
    except Exception as err:  # recorded, the run goes on
        value = dict(error=f'{type(err).__name__}: {err}'[:2000])
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if not k.startswith('_')}
        value.setdefault('seconds', round(time.perf_counter() - start, 1))
    report.record(stage, item, value)
    return value


# ----- stages -----
def stage_environment(report: Report, device: torch.device,
                      dry: bool) -> float:
    env = dict(python=platform.python_version(), torch=torch.__version__,
               cuda=torch.version.cuda, device=str(device))
    if device.type == 'cuda':
        props = torch.cuda.get_device_properties(device)
        env.update(gpu=props.name,
                   memory_gib=round(props.total_memory / 2**30, 1),
                   capability=f'{props.major}.{props.minor}')
    report.record('a environment', 'versions', env)
    n, iters = (256, 3) if dry else (8192, 200)
    value = guarded(report, 'a environment', 'bf16 matmul', 5,
                    lambda: dict(n=n, tflops=steps.matmul_tflops(
                        device, n, iters)))
    return (value or {}).get('tflops') or float('nan')


def _config(pair, dry: bool) -> str:
    return pair[1] if dry else pair[0]


def _train_item(config: str, device: torch.device, dry: bool,
                estimate: bool) -> dict:
    from mmvitreg.analysis.memory_plan import estimate as plan
    from mmvitreg.analysis.memory_plan import with_amp
    from mmvitreg.analysis.train_batch import batch_size
    cfg = steps.load_config(config)
    size = 2 if dry else batch_size(cfg)
    out = dict(config=config, **steps.amp_train(
        cfg, device, size, steps=1 if dry else 5, warmup=1 if dry else 2))
    steps.free(device)
    if estimate and not dry:
        est = plan(with_amp(cfg, 'bfloat16'), gpus=1)
        out['estimated_mib'] = est.total / 2**20
        if 'peak_mib' in out:
            out['estimate_error'] = (out['estimated_mib'] / out['peak_mib']
                                     - 1)
    return out


def stage_families(report: Report, device: torch.device, dry: bool) -> dict:
    results = {}
    for name, pair in FAMILIES.items():
        results[name] = guarded(
            report, 'b pretraining families', name, 10 if dry else 40,
            lambda pair=pair: _train_item(_config(pair, dry), device, dry,
                                          True))
    return results


def _mfu(config: str, device: torch.device, dry: bool, peak: float) -> dict:
    from mmvitreg.analysis.train_batch import batch_size
    cfg = steps.load_config(config)
    size = 2 if dry else batch_size(cfg)
    run = steps.amp_train(cfg, device, size, steps=1 if dry else 5,
                          warmup=1 if dry else 2)
    flops = steps.step_flops(run['_step'])
    steps.free(device)
    return dict(config=config, batch=size, flops_per_step=flops,
                step_s=run['step_s'],
                mfu=flops / run['step_s'] / (peak * 1e12))


def _run_all_ratios(device: torch.device, dry: bool) -> dict:
    import run_all
    size = dict(run_all.SIZES['tiny' if dry else 'full'])
    if not dry:
        size.update(batch_size=128, steps=5, warmup=2)
    out = run_all.diversity_ratios(size, device)
    out.update(run_all.token_labeling_ratios(size, device))
    out['precision'] = 'fp32 (run_all steps)'
    out['batch'] = size['batch_size']
    steps.free(device)
    return out


def stage_mfu(report: Report, device: torch.device, dry: bool,
              peak: float) -> None:
    for name in ('DeiT-S24', 'DeiT-S24 diverse'):
        config = _config(FAMILIES[name], dry)
        guarded(report, 'c MFU and step ratios', f'MFU {name}',
                10 if dry else 30,
                lambda config=config: _mfu(config, device, dry, peak))
    guarded(report, 'c MFU and step ratios', 'run_all ratios',
            15 if dry else 60, lambda: _run_all_ratios(device, dry))


def _segmentor(config: str, device: torch.device, dry: bool) -> dict:
    out = _train_item(config, device, dry, estimate=True)
    out['slide_images_per_s'] = steps.slide_images_per_s(
        config, device, repeats=1 if dry else 5)
    steps.free(device)
    return out


def stage_segmentation(report: Report, device: torch.device,
                       dry: bool) -> None:
    for name, pair in SEGMENTORS.items():
        guarded(report, 'd segmentation', name, 10 if dry else 40,
                lambda pair=pair: _segmentor(_config(pair, dry), device, dry))


def _tool(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k != 'log'}
    if result.get('rc') != 0:
        out['log'] = steps.tail(str(result.get('log', '')))
    return out


def stage_tools(report: Report, device: torch.device, dry: bool,
                work: str) -> None:
    cuda = device.type == 'cuda'
    stage = 'e tools'
    data = guarded(report, stage, 'digits data', 5,
                   lambda: tools.prepare(work))
    if not data or 'error' in data:
        return
    first = 'configs/demo/vit_tiny_digits.py'
    resume = guarded(report, stage, 'train + kill + resume (torch.equal) ' +
                     first, 30,
                     lambda: tools.kill_and_resume(
                         first, osp.join(work, 'resume'), data, cuda,
                         report.left()))
    reference = osp.join(work, 'resume', 'reference')
    if resume and resume.get('reference', {}).get('rc') == 0:
        guarded(report, stage, 'test ' + first, 15,
                lambda: _tool(tools.test_demo(
                    first, osp.join(reference, 'iter_4.pth'), data,
                    report.left())))
    guarded(report, stage, 'torchrun FSDP ' + tools.FSDP_DEMO, 20,
            lambda: _tool(tools.torchrun_fsdp(work, data, cuda,
                                              report.left())))
    config = _config(FAMILIES['DeiT-S24'], dry)

    def compiled() -> dict:
        cfg = steps.load_config(config)
        size = 2 if dry else cfg.train_dataloader.batch_size
        return steps.compile_ratio(cfg, device, size, 2 if dry else 5,
                                   'eager' if dry else 'inductor')

    guarded(report, stage, 'compile vs eager ' + config, 10 if dry else 90,
            compiled)
    # The dry run trains one demo config (above): each tool launch costs
    # seconds of imports on 2 cores.
    for name in () if dry else tools.DEMOS[1:]:
        config = f'configs/demo/{name}.py'
        guarded(report, stage, 'train ' + config, 15,
                lambda config=config, name=name: _tool(tools.train_demo(
                    config, osp.join(work, name), data, cuda,
                    report.left())))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--budget-s', type=float, default=420.0,
                        help='seconds for all stages (default 420)')
    parser.add_argument('--dry-run', action='store_true',
                        help='every stage at tiny size on the CPU')
    parser.add_argument('--work-dir',
                        help='data, checkpoints and logs of stage (e) '
                        '(default OUT/work; keep it outside OUT where only '
                        'a few files may come back)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        print('gpu_acceptance: CUDA is not available (torch '
              f'{torch.__version__}, built for CUDA {torch.version.cuda}); '
              'run it on a GPU machine, or use --dry-run for the CPU '
              'version of every stage', file=sys.stderr)
        return 2
    device = torch.device('cpu' if args.dry_run else 'cuda')
    if args.dry_run:
        torch.set_num_threads(1)  # tiny tensors: threads only contend
    report = Report(args.out, args.budget_s, args.dry_run)
    report.write()
    peak = stage_environment(report, device, args.dry_run)
    stage_families(report, device, args.dry_run)
    stage_mfu(report, device, args.dry_run, peak)
    stage_segmentation(report, device, args.dry_run)
    stage_tools(report, device, args.dry_run,
                args.work_dir or osp.join(args.out, 'work'))
    print(markdown(report.data))
    failed = [f'{s}/{i}' for s, items in report.data['stages'].items()
              for i, v in items.items()
              if isinstance(v, dict) and ('error' in v or v.get('rc') not in (
                  None, 0) or v.get('finite') is False
                  or v.get('equal') is False)]
    if failed:
        print('failed: ' + '; '.join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
