"""One instruction set for every x86 machine, so the main job's and the
ablation's numbers do not depend on which CPU ran them.

The same command on two x86 CPUs trained different weights (issue 19).
Emulating other CPUs on one machine (a 20-step run of the baseline config,
final weights compared bit for bit; README "What the main job prints")
showed three libraries that pick their kernels by the CPU they find, each
enough to move the weights, plus the thread count:

- ATen's vectorised kernels (``ATEN_CPU_CAPABILITY``: avx512 vs avx2),
- oneDNN's convolutions (``ONEDNN_MAX_CPU_ISA``: AVX-512 vs AVX2),
- MKL's GEMM (``MKL_CBWR``: its code branch; on AMD it runs the AVX2
  branch by default, on AVX-512 Intel CPUs the AVX-512 one),
- the thread count (reductions split differently).

Fixing all four to the AVX2 level, one thread, gives the same bits on any
x86-64 CPU that has AVX2 (Intel from Haswell, 2013; AMD from Zen), at no
measurable cost here (a train step's CPU time within noise). It cannot
cover ARM (other instructions, other libraries: no MKL), nor x86 CPUs
without AVX2 (the caps are ceilings; such a CPU runs narrower kernels).
"""
import os
import platform
from typing import Dict, Optional

#: Environment of every child run (set before the child imports torch:
#: these are read once, at library load).
PORTABLE_ENV: Dict[str, str] = {
    'OMP_NUM_THREADS': '1',
    'MKL_NUM_THREADS': '1',
    'ATEN_CPU_CAPABILITY': 'avx2',
    'ONEDNN_MAX_CPU_ISA': 'AVX2',
    'MKL_CBWR': 'AVX2',
}


def portable_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """``base`` (default: this process's environment) with
    ``PORTABLE_ENV`` on top: one thread, AVX2 kernels in ATen, oneDNN and
    MKL."""
    return {**(os.environ if base is None else base), **PORTABLE_ENV}


def cpu_model(cpuinfo: str = '/proc/cpuinfo') -> str:
    """The CPU's ``model name`` (Linux), else what ``platform`` knows."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown'


def machine() -> Dict[str, object]:
    """What a result needs to name the machine it came from: CPU model,
    cores, and the threads and instruction set each run was pinned to."""
    return dict(cpu_model=cpu_model(), cpu_count=os.cpu_count(),
                arch=platform.machine(),
                threads_per_run=int(PORTABLE_ENV['OMP_NUM_THREADS']),
                isa=PORTABLE_ENV['ATEN_CPU_CAPABILITY'])
