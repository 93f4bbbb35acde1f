#!/usr/bin/env bash
# Installs what the probe tests need from Debian: PyTorch (python3-torch, CPU; about 650 MB and
# 30 s; it pulls in numpy) for the PyTorch backend, and dataset-fashion-mnist (30 MB) for the
# real data set, a C compiler (gcc, when there is none) for the CC loss's native kernel, and
# OpenBLAS (libopenblas0-pthread, 5 MB): python3-torch only pulls in the
# reference BLAS, which makes its matrix products several times slower than any pip-installed
# torch (MKL), so PyTorch figures from it would be unrepresentative. Idempotent. Debian's torch
# imports only under /usr/bin/python3.
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
ls /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
# A C compiler for the CC loss's native few-class kernel (python/loss_lens_probe/cc_small.c),
# so that the tests cover it; without one the loss runs on PyTorch operations.
# (A compiler without the C library's headers fails too: check that math.h is found.)
if ! printf '#include <math.h>\n' | cc -x c -E - >/dev/null 2>&1; then
  missing+=(gcc libc6-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-probe-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-probe-deps: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
