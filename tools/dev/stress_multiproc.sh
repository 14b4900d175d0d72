#!/usr/bin/env bash
# Stress the 2-process CPU (gloo) runs for exit aborts: N launches of the
# DDP demo and N of the FSDP demo, each a short training through
# tools/dist_train.sh, with a CPU hog on every core beside them.
#
#   bash tools/dev/stress_multiproc.sh [N=30] [OUT=work_dirs/stress]
#
# Every launch must exit 0 and no rank may print "terminate called" (the
# gloo-at-exit abort, SIGABRT / exit -6; root cause and fix in
# mmvitreg/engine/process_group.py). Prints one line per launch and a
# summary; exits 1 if any launch failed. Env: PYTHON (default .venv/bin/python),
# HOGS (busy processes, default: one per core; 0 for an idle machine).
set -uo pipefail
cd "$(dirname "$0")/../.."
N=${1:-30}
OUT=${2:-work_dirs/stress}
PYTHON=${PYTHON:-.venv/bin/python}
HOGS=${HOGS:-$(nproc)}
mkdir -p "$OUT"
"$PYTHON" tools/prepare_digits.py --out "$OUT/digits" --train-scenes 8 \
    --val-scenes 4 >/dev/null || exit 1
hog_pids=()
for _ in $(seq 1 "$HOGS"); do
    "$PYTHON" -c 'while True: pass' &
    hog_pids+=($!)
done
trap 'kill "${hog_pids[@]}" 2>/dev/null' EXIT
opts=(train_cfg.max_epochs=2 train_dataloader.batch_size=8
      train_dataloader.num_workers=0 train_dataloader.persistent_workers=False
      default_hooks.checkpoint.interval=1)
fail=0
for i in $(seq 1 "$N"); do
    for kind in ddp fsdp; do
        if [ "$kind" = ddp ]; then cfg=configs/demo/vit_tiny_digits.py
        else cfg=configs/demo/deit3_tiny_digits_fsdp.py; fi
        data=()
        for l in train_dataloader val_dataloader test_dataloader; do
            data+=("$l.dataset.data_root=$OUT/digits/imagenet")
        done
        log="$OUT/$kind-$i.log"
        start=$(date +%s)
        PYTHON="$PYTHON" PYTHONFAULTHANDLER=1 OMP_NUM_THREADS=1 \
            bash tools/dist_train.sh "$cfg" 2 --work-dir "$OUT/$kind-$i" \
            --no-validate --cfg-options "${opts[@]}" "${data[@]}" \
            train_dataloader.dataset.indices=32 >"$log" 2>&1
        rc=$?
        aborts=$(grep -c "terminate called" "$log")
        # the teardown's last resort (a group still referenced after the
        # run): not a failure, but it means a path keeps the Runner alive
        fallback=$(grep -c "still referenced after the run" "$log")
        status=ok
        if [ "$rc" -ne 0 ] || [ "$aborts" -ne 0 ]; then
            status=FAIL; fail=$((fail + 1))
        fi
        echo "$kind $i rc=$rc aborts=$aborts fallback=$fallback" \
            "$(( $(date +%s) - start ))s $status"
        [ "$status" = ok ] && rm -rf "$OUT/$kind-$i"
    done
done
echo "launches: $((2 * N)), failed: $fail (hogs: $HOGS)"
[ "$fail" -eq 0 ]
