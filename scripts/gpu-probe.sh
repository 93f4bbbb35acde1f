#!/usr/bin/env bash
# The PyTorch backend's probe on CUDA and on the CPU, side by side: steps/s for CE and CC-LS on
# the CNN preset, and cc_nll's agreement between the devices. One bounded command (9 minutes at
# most), no network; needs python3 with torch (and CUDA for the GPU half). Usage:
#   bash scripts/gpu-probe.sh [--steps=N]      (PYTHON=... to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
PYTHONPATH="$PWD/python" timeout 540 "$PY" -m loss_lens_probe --bench "$@"
