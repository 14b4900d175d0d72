#!/usr/bin/env bash
# torchrun (mmengine's `pytorch` launcher + DDP) of one tool; used by
# dist_train.sh and dist_test.sh.
#   tools/dist_launch.sh TOOL.py GPUS [tool args...]
# Env: NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON. Without GPUs, the
# processes use gloo.
# One machine (NNODES=1) without PORT: torchrun's own rendezvous store binds
# a free port itself (c10d on localhost:0), so concurrent jobs never race
# for a port. Several machines, or PORT set: the static rendezvous on
# MASTER_ADDR:PORT (default 29500), as OpenMMLab's scripts do.
set -euo pipefail
TOOL=$1
GPUS=$2
DIR="$(cd "$(dirname "$0")" && pwd)"
NNODES=${NNODES:-1}
rdzv=()
if [ "$NNODES" != 1 ] || [ -n "${PORT:-}" ]; then
    rdzv=(--master_addr="${MASTER_ADDR:-127.0.0.1}"
          --master_port="${PORT:-29500}")
fi
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="${NODE_RANK:-0}" \
    --nproc_per_node="$GPUS" "${rdzv[@]}" \
    "$DIR/$TOOL" "${@:3}" --launcher pytorch
