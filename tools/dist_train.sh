#!/usr/bin/env bash
# Multi-process training with torchrun (mmengine's `pytorch` launcher + DDP).
#   tools/dist_train.sh CONFIG GPUS [train.py args...]
# Env: NNODES, NODE_RANK, MASTER_ADDR, PORT. Without GPUs, processes use gloo.
exec bash "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
