#!/usr/bin/env bash
# Installs what the probe tests need from Debian: PyTorch (python3-torch, CPU; about 650 MB and
# 30 s; it pulls in numpy) for the PyTorch backend, and dataset-fashion-mnist (30 MB) for the
# real data set, and OpenBLAS (libopenblas0-pthread, 5 MB): python3-torch only pulls in the
# reference BLAS, which makes its matrix products several times slower than any pip-installed
# torch (MKL), so PyTorch figures from it would be unrepresentative. Idempotent. Debian's torch
# imports only under /usr/bin/python3.
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
ls /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-probe-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-probe-deps: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
