#!/usr/bin/env bash
# Training on a Slurm cluster (mmengine's `slurm` launcher).
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args...]
# Env: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS.
set -euo pipefail
EXTRA=("${@:5}")
if [ -n "${4:-}" ]; then EXTRA=(--work-dir "$4" "${EXTRA[@]}"); fi
exec bash "$(dirname "$0")/slurm_launch.sh" train.py "$1" "$2" "$3" \
    "${EXTRA[@]}"
