#!/usr/bin/env bash
# torchrun (mmengine's `pytorch` launcher + DDP) of one tool; used by
# dist_train.sh and dist_test.sh.
#   tools/dist_launch.sh TOOL.py GPUS [tool args...]
# Env: NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON. Without GPUs, the
# processes use gloo.
set -euo pipefail
TOOL=$1
GPUS=$2
DIR="$(cd "$(dirname "$0")" && pwd)"
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$GPUS" --master_port="${PORT:-29500}" \
    "$DIR/$TOOL" "${@:3}" --launcher pytorch
