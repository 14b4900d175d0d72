#!/usr/bin/env bash
# Wheels for a GPU machine that reaches no package registry (the device
# tool's H200: Python 3.12, torch 2.11 + CUDA 13.0, torchvision, timm,
# numpy, pillow, opencv, matplotlib, scipy, scikit-learn, rich, pyyaml,
# regex, einops, ... preinstalled; no OpenMMLab package).
#
#   bash tools/dev/device_bundle.sh [--out DIR]
#
# Downloads from PyPI into .whl/ (ignored by git) the py3.12 wheels of
# mmengine, mmcv-lite, mmsegmentation, mmpretrain and the pure-Python
# dependencies the image lacks, at requirements.txt's pins (the others at
# the versions this checkout's .venv runs, i.e. the tested ones); checks
# every wheel's requirements are carried or in the image; checks the
# wheels plus the files that travel with the repository fit in 64 MiB;
# prints the one-line command for the device tool (carry: [".whl"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.whl
[ "${1:-}" = "--out" ] && OUT=$2
PY=${PYTHON:-.venv/bin/python}
LIMIT_MIB=64

# What the bundle carries (requirements.txt pins first, else the .venv's).
CARRY="mmengine mmcv-lite mmsegmentation mmpretrain addict yapf platformdirs
termcolor ftfy wcwidth prettytable mat4py modelindex model-index ordered-set
importlib-metadata lazy-importer setuptools"
# In the GPU image (KINDS.md's package list), needed by the wheels above.
IMAGE="numpy pillow opencv-python opencv-python-headless matplotlib scipy
scikit-learn joblib threadpoolctl pyyaml rich regex einops packaging zipp
click markdown pygments markdown-it-py mdurl torch torchvision timm
setuptools"

specs=$("$PY" - "$CARRY" <<'PYEOF'
import re, sys
from importlib.metadata import version
pins = {}
for line in open('requirements.txt'):
    m = re.match(r'\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+)', line)
    if m:
        pins[m.group(1).lower()] = m.group(2)
for name in sys.argv[1].split():
    print(f'{name}=={pins.get(name.lower()) or version(name)}')
PYEOF
)
rm -rf "$OUT" && mkdir -p "$OUT"
# shellcheck disable=SC2086
"$PY" -m pip download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$OUT" $specs 2>&1 \
    | { grep -v "^WARNING: Location .* is ignored" || true; }

# Every requirement of a carried wheel is carried or in the image.
"$PY" - "$OUT" "$CARRY $IMAGE" <<'PYEOF'
import glob, re, sys, zipfile
have = {n.lower().replace('_', '-') for n in sys.argv[2].split()}
missing = []
for path in sorted(glob.glob(sys.argv[1] + '/*.whl')):
    with zipfile.ZipFile(path) as z:
        meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
        for line in z.read(meta).decode().splitlines():
            if not line.startswith('Requires-Dist:'):
                continue
            req = line.split(':', 1)[1]
            if ';' in req and re.search(r'extra|win32|python_version\s*<\s*"3\.(1[01]|[0-9])"', req.split(';', 1)[1]):
                continue
            name = re.match(r'\s*([A-Za-z0-9_.-]+)', req).group(1).lower().replace('_', '-')
            if name not in have:
                missing.append(f'{path}: {req.strip()}')
if missing:
    sys.exit('device_bundle: requirements neither carried nor in the GPU image:\n  ' + '\n  '.join(missing))
PYEOF

# Size: wheels + what travels (tracked and untracked-not-ignored files).
wheels=$(du -cb "$OUT"/*.whl | tail -1 | cut -f1)
repo=$(git ls-files -z -co --exclude-standard | xargs -0 stat -c %s 2>/dev/null \
       | awk '{s += $1} END {print s + 0}')
total=$((wheels + repo))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
echo "device_bundle: $(ls "$OUT"/*.whl | wc -l) wheels $(mib "$wheels") MiB + repository $(mib "$repo") MiB = $(mib "$total") MiB (limit $LIMIT_MIB MiB)"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "device_bundle: over $LIMIT_MIB MiB: the device tool would refuse the call" >&2
    exit 1
fi
case "$OUT" in .whl) ;; *) echo "(the command below expects the wheels in .whl/)";; esac
echo 'device tool command (carry [".whl"], timeout_s 600):'
echo 'python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 && python3 benchmarks/gpu_acceptance.py --out $OUT/acc --work-dir /tmp/acc_work --budget-s 420'
