#!/usr/bin/env bash
# srun (mmengine's `slurm` launcher) of one tool; used by slurm_train.sh and
# slurm_test.sh.
#   tools/slurm_launch.sh TOOL.py PARTITION JOB_NAME [tool args...]
# Env: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS, PYTHON.
set -euo pipefail
TOOL=$1
PARTITION=$2
JOB_NAME=$3
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
DIR="$(cd "$(dirname "$0")" && pwd)"
# shellcheck disable=SC2086
exec srun -p "$PARTITION" --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" --ntasks="${GPUS:-8}" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} "${PYTHON:-python}" -u "$DIR/$TOOL" "${@:4}" \
    --launcher slurm
