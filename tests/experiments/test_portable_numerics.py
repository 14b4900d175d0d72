"""The main job's and the ablation's environment makes two emulated x86
machines train the same bits: a short ``tools/train.py`` run under an
AVX-512 machine's settings and under an AVX2 machine's (ATen and oneDNN
capped at AVX2, MKL's instructions capped at AVX2, two threads) ends with
different weights as it is, and with equal weights in ``portable_env``."""
import os
import os.path as osp

import pytest
import torch
from tool_runner import CLS_CONFIG, data_options, run_tool

from mmvitreg.experiments.portable_numerics import (
    PORTABLE_ENV,
    cpu_model,
    machine,
    portable_env,
)

#: what another CPU looks like to the libraries (caps are ceilings)
AVX512_MACHINE = {'ATEN_CPU_CAPABILITY': 'avx512', 'OMP_NUM_THREADS': '1'}
AVX2_MACHINE = {'ATEN_CPU_CAPABILITY': 'avx2', 'ONEDNN_MAX_CPU_ISA': 'AVX2',
                'MKL_ENABLE_INSTRUCTIONS': 'AVX2', 'OMP_NUM_THREADS': '2'}


def has_avx512() -> bool:
    try:
        with open('/proc/cpuinfo') as f:
            return ' avx512f ' in f.read()
    except OSError:
        return False


def base_env(machine_env):
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}
    env.pop('MKL_ENABLE_INSTRUCTIONS', None)
    return {**env, **machine_env}


def final_weights(env, digits_root, work_dir):
    """Two epochs of 2 steps of the baseline demo config; its weights."""
    args = ['tools/train.py', CLS_CONFIG, '--work-dir', str(work_dir),
            '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
            'train_dataloader.batch_size=16',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'randomness.seed=0',
            *data_options(digits_root, 'imagenet', train_size=32)]
    proc = run_tool(args, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = torch.load(f.read().strip(), map_location='cpu',
                          weights_only=False)
    return ckpt['state_dict']


def same(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.skipif(not has_avx512(),
                    reason='emulating an AVX-512 machine needs one')
def test_two_emulated_instruction_sets_train_equal_bits(digits_root,
                                                        tmp_path):
    raw = [final_weights(base_env(m), digits_root, tmp_path / f'raw{i}')
           for i, m in enumerate((AVX512_MACHINE, AVX2_MACHINE))]
    assert not same(*raw), 'the emulation no longer moves the numbers'
    pinned = [final_weights(portable_env(base_env(m)), digits_root,
                            tmp_path / f'pinned{i}')
              for i, m in enumerate((AVX512_MACHINE, AVX2_MACHINE))]
    assert same(*pinned)


def test_portable_env_overrides_the_machine_and_keeps_the_rest():
    env = portable_env({'ATEN_CPU_CAPABILITY': 'avx512', 'OMP_NUM_THREADS':
                        '8', 'HOME': '/x'})
    assert env['ATEN_CPU_CAPABILITY'] == 'avx2'
    assert env['ONEDNN_MAX_CPU_ISA'] == 'AVX2'
    assert env['MKL_CBWR'] == 'AVX2'
    assert env['OMP_NUM_THREADS'] == '1' and env['HOME'] == '/x'


def test_machine_names_the_cpu_model(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nmodel name\t: Test CPU 9000\n')
    assert cpu_model(str(info)) == 'Test CPU 9000'
    record = machine()
    assert record['threads_per_run'] == 1 and record['isa'] == 'avx2'
