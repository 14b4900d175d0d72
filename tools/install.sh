#!/usr/bin/env bash
# Create .venv (if missing) and install the pinned stack plus mmvitreg (editable)
# and its interpreter-start hook (mmvitreg/compat/startup_hook.py) and mim link
# (mmvitreg/compat/mim_link.py).
# Offline apart from the package registry; safe to run again (no-op when done).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.mmvitreg-requirements
if [ ! -f "$stamp" ] || ! cmp -s requirements.txt "$stamp"; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 \
        | { grep -v "^WARNING: Location .* is ignored" || true; }
    cp requirements.txt "$stamp"
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 \
    | { grep -v "^WARNING: Location .* is ignored" || true; }
# mmcv.ops stand-in at interpreter start, so that mmseg/mmpretrain's own
# APIs and tools work without `import mmvitreg` (removed by pip uninstall)
.venv/bin/python mmvitreg/compat/startup_hook.py install >/dev/null
# site-packages/mmvitreg: a redirect to this checkout and a link to its .mim
# model zoo, so that `mim search mmvitreg` works from any folder (pip's
# editable install keeps none there; removed by pip uninstall)
.venv/bin/python mmvitreg/compat/mim_link.py install >/dev/null
.venv/bin/python -c "import mmseg.apis, mmpretrain.apis, mmvitreg; print('mmvitreg', mmvitreg.__version__, 'ready')"
