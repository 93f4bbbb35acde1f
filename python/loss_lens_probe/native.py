"""The optional native kernel of the small-K CPU path (cc_small.c): compiled once with the
system's C compiler, cached, loaded with ctypes.

Nothing here is required: where there is no compiler (or it fails, or LOSS_LENS_NATIVE=0), the
CC loss runs on its PyTorch operations, with the same results (the tests run both). The library
goes to a cache folder of the user's own (LOSS_LENS_CACHE, else $XDG_CACHE_HOME/loss-lens or
~/.cache/loss-lens; %LOCALAPPDATA%\\loss-lens on Windows), named by a hash of the source, the
compiler and the platform, so an edited source or another machine builds afresh. A library is
used only after it reproduces a known value (log exp[0, 1] = log(e - 1)).
"""
import ctypes
import hashlib
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading

_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cc_small.c")
_COMPILE_TIMEOUT_S = 120
_LOCK = threading.Lock()
_STATE = {"done": False, "fn": None, "status": "not loaded"}


def _cache_dir():
    base = os.environ.get("LOSS_LENS_CACHE")
    if base:
        return base
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA") or os.path.expanduser("~"), "loss-lens")
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(xdg or os.path.join(os.path.expanduser("~"), ".cache"), "loss-lens")


def _private_dir(path):
    """Creates path (0700) if needed; refuses one that another user owns or can write to, since
    a library in it is loaded into this process."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    if hasattr(os, "getuid"):
        st = os.stat(path)
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            raise RuntimeError(f"{path} is not private to this user (owner or group/other write); not building there")


def _compiler():
    cc = os.environ.get("CC")
    if cc:
        return shutil.which(cc) or cc
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _build(cc):
    with open(_SOURCE, "rb") as f:
        src = f.read()
    key = hashlib.sha256(src + b"\0" + cc.encode() + b"\0" + f"{sys.platform} {platform.machine()}".encode()).hexdigest()[:16]
    folder = _cache_dir()
    _private_dir(folder)
    lib = os.path.join(folder, f"cc_small-{key}{'.dll' if sys.platform == 'win32' else '.so'}")
    if not os.path.exists(lib):
        fd, tmp = tempfile.mkstemp(prefix="cc_small-", suffix=".tmp", dir=folder)
        os.close(fd)
        try:
            cmd = [cc, "-O2", "-shared", "-fPIC", "-o", tmp, _SOURCE, "-lm"]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=_COMPILE_TIMEOUT_S)
            if r.returncode != 0:
                msg = (r.stderr or r.stdout).strip().splitlines()
                raise RuntimeError(f"{os.path.basename(cc)} failed: {msg[-1] if msg else f'exit {r.returncode}'}")
            os.replace(tmp, lib)  # atomic: another process may be building the same file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return lib


def _load(path):
    dll = ctypes.CDLL(path)
    fn = dll.loss_lens_cc_small
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double] + [ctypes.c_void_p] * 4
    # The known value: K = 2, z = (0, 1), y = (1, 0): loss = log exp[0, 1] = log(e - 1), by the
    # series (status 2: the spread is below the partial fractions' reach).
    z = (ctypes.c_double * 2)(0.0, 1.0)
    y = (ctypes.c_double * 2)(1.0, 0.0)
    loss = (ctypes.c_double * 1)()
    grad = (ctypes.c_double * 2)()
    status = (ctypes.c_ubyte * 1)()
    work = (ctypes.c_double * 3)()
    rc = fn(1, 2, z, y, 3e-14, loss, grad, status, work)
    want = math.log(math.e - 1.0)
    # grad_1 = mu_1 - y_1, mu_1 = d/dz_1 log((e^z_1 - e^z_0) / (z_1 - z_0)) = e/(e - 1) - 1.
    if rc != 0 or status[0] != 2 or abs(loss[0] - want) > 1e-15 or abs(grad[1] - 1.0 / (math.e - 1.0)) > 1e-15:
        raise RuntimeError(f"{os.path.basename(path)} failed its self-check (loss {loss[0]!r}, expected {want!r})")
    return fn


def kernel():
    """The ctypes function loss_lens_cc_small, or None (see status())."""
    if not _STATE["done"]:
        with _LOCK:
            if not _STATE["done"]:
                _STATE["fn"], _STATE["status"] = _try()
                _STATE["done"] = True
    return _STATE["fn"]


def status():
    """One line on what the small-K CPU path runs: the native kernel, or why not."""
    kernel()
    return _STATE["status"]


def _try():
    if os.environ.get("LOSS_LENS_NATIVE", "1") == "0":
        return None, "PyTorch operations (LOSS_LENS_NATIVE=0)"
    cc = _compiler()
    if cc is None:
        return None, "PyTorch operations (no C compiler found: cc, gcc or clang; or set CC)"
    try:
        return _load(_build(cc)), f"native kernel (built with {os.path.basename(cc)})"
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        return None, f"PyTorch operations (native kernel unavailable: {e})"
