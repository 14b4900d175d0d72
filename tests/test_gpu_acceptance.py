"""``benchmarks/gpu_acceptance.py``: ``--dry-run`` runs every stage at tiny
size on the CPU and writes the JSON and Markdown reports; without CUDA the
real run exits 2 naming the reason. (The CUDA figures themselves are
measured on a GPU, not here.)"""
import json

import pytest
import torch
from tool_runner import run_tool

FAMILIES = ('DeiT-S24', 'DeiT-S24 diverse', 'DeiT-B24 diverse',
            'LV-ViT-S token labeling', 'DeiT III-B', 'Swin-B diverse',
            'Swin-L diverse')


@pytest.fixture(scope='module')
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('acceptance')
    proc = run_tool(['benchmarks/gpu_acceptance.py', '--out', str(out),
                     '--dry-run', '--budget-s', '1500'], timeout=1800,
                    env={'OMP_NUM_THREADS': '1'})
    return proc, out


def test_dry_run_passes_every_stage(dry_run):
    proc, out = dry_run
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    report = json.loads((out / 'gpu_acceptance.json').read_text())
    assert report['dry_run'] is True
    stages = report['stages']
    assert sorted(stages) == ['a environment', 'b pretraining families',
                              'c MFU and step ratios', 'd segmentation',
                              'e tools']
    assert stages['a environment']['bf16 matmul']['tflops'] > 0
    for name in FAMILIES:
        item = stages['b pretraining families'][name]
        assert item['finite'] is True and item['images_per_s'] > 0, name
        assert len(item['losses']) == 2
    mfu = stages['c MFU and step ratios']
    for name in ('MFU DeiT-S24', 'MFU DeiT-S24 diverse'):
        assert 0 < mfu[name]['mfu'] and mfu[name]['flops_per_step'] > 0
    ratios = mfu['run_all ratios']
    assert ratios['step_time_ratio_suite_vs_timm'] > 0
    assert ratios['step_time_ratio_all_diversity_vs_baseline'] > 0
    for item in stages['d segmentation'].values():
        assert item['finite'] is True and item['slide_images_per_s'] > 0
    tools = stages['e tools']
    resume = tools['train + kill + resume (torch.equal) '
                   'configs/demo/vit_tiny_digits.py']
    assert resume['killed']['rc'] == -9 and resume['resumed']['rc'] == 0
    assert resume['equal'] is True and resume['tensors'] > 0
    assert tools['test configs/demo/vit_tiny_digits.py']['rc'] == 0
    assert tools['torchrun FSDP configs/demo/deit3_tiny_digits_fsdp.py'][
        'rc'] == 0
    compiled = tools['compile vs eager configs/demo/vit_tiny_digits.py']
    assert compiled['backend'] == 'eager'
    assert compiled['compiled_vs_eager_step_ratio'] > 0


def test_dry_run_writes_the_markdown_report(dry_run):
    _, out = dry_run
    text = (out / 'gpu_acceptance.md').read_text()
    assert text.startswith('# GPU acceptance')
    for stage in ('## a environment', '## e tools'):
        assert stage in text


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_without_cuda_exits_2_naming_the_reason(tmp_path):
    proc = run_tool(['benchmarks/gpu_acceptance.py', '--out',
                     str(tmp_path)], timeout=300)
    assert proc.returncode == 2
    assert 'CUDA is not available' in proc.stderr
    assert '--dry-run' in proc.stderr
