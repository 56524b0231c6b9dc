#!/usr/bin/env python3
"""PyTorch as a benchmark peer: a worker that bench/peers/torch.mjs drives over stdin/stdout.

One JSON request per line in, one JSON reply per line out ({"error": ...} on failure). It holds one model
at a time, built with the same constructor arguments as torchrnn's and loaded with torchrnn's weights, and
times its forward itself with time.perf_counter, so that the pipe to Node costs nothing in the figures.

Requests:
  {"cmd": "info"}                                  versions and settings
  {"cmd": "load", "case": {...}, "params": [[name, shape], ...], "weights": path, "input": path}
        weights: the parameters as little-endian float32, concatenated in "params" order;
        input: x as little-endian float32, (T, N, input_size)
  {"cmd": "threads", "n": 2}                       torch.set_num_threads(n), and OpenBLAS's own count
  {"cmd": "output", "path": path}                  one forward; writes its output there as float32
  {"cmd": "time", "reps": k}                       k forwards, each timed: {"ms": [...]}
  {"cmd": "rss"}                                   the process's peak RSS so far, in KiB

The environment it runs in is chosen by bench/peers/torch.mjs (see there for OPENBLAS_CORETYPE).
"""
import ctypes
import json
import os
import platform
import resource
import sys
import time

import numpy as np
import torch


def blas_paths():
    """The BLAS libraries this process really loaded: Debian's libblas.so.3 is whichever implementation
    the alternatives system points at (reference BLAS unless OpenBLAS or BLIS is installed)."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower() or "blis" in os.path.basename(path).lower():
                libs.add(os.path.realpath(path))
    return sorted(libs)


def blas_in_use():
    """blas_paths(), with the kernel core OpenBLAS chose where it is OpenBLAS: PyTorch's speed depends on
    both entirely."""
    found = []
    for path in blas_paths():
        try:
            core = ctypes.CDLL(path).openblas_get_corename
            core.restype = ctypes.c_char_p
            found.append(f"{path} (OpenBLAS core {core().decode()})")
        except (OSError, AttributeError):
            found.append(path)
    return found


def openblas_thread_setters():
    """OpenBLAS's own thread-count setters in this process: Debian's libopenblas0-pthread keeps a pool of
    its own that torch.set_num_threads does not reach, so a "one thread" PyTorch would use every core."""
    setters = []
    for path in blas_paths():
        try:
            setters.append(ctypes.CDLL(path).openblas_set_num_threads)
        except (OSError, AttributeError):
            pass
    return setters


class Peer:
    def __init__(self):
        self.model = None
        self.x = None

    def info(self, _req):
        return {
            "torch": torch.__version__,
            "blas": blas_in_use(),
            "numpy": np.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_", "GOTO"))},
        }

    def load(self, req):
        c = req["case"]
        common = dict(
            input_size=c["input_size"],
            hidden_size=c["hidden_size"],
            num_layers=c["num_layers"],
            bidirectional=c["bidirectional"],
        )
        mode = c["mode"]
        if mode == "LSTM":
            model = torch.nn.LSTM(**common, proj_size=c.get("proj_size") or 0)
        elif mode == "GRU":
            model = torch.nn.GRU(**common)
        elif mode in ("RNN_TANH", "RNN_RELU"):
            model = torch.nn.RNN(**common, nonlinearity="tanh" if mode == "RNN_TANH" else "relu")
        else:
            raise ValueError(f"unknown mode {mode}")

        flat = np.fromfile(req["weights"], dtype="<f4")
        state, at = {}, 0
        for name, shape in req["params"]:
            n = int(np.prod(shape))
            state[name] = torch.from_numpy(flat[at : at + n].reshape(shape).copy())
            at += n
        if at != flat.size:
            raise ValueError(f"weights file has {flat.size} floats, the parameters need {at}")
        model.load_state_dict(state, strict=True)
        model.eval()

        x = np.fromfile(req["input"], dtype="<f4").reshape(c["T"], c["N"], c["input_size"])
        self.model, self.x = model, torch.from_numpy(x.copy())
        return {"ok": True}

    def threads(self, req):
        torch.set_num_threads(int(req["n"]))
        for set_blas_threads in openblas_thread_setters():
            set_blas_threads(int(req["n"]))
        return {"threads": torch.get_num_threads()}

    def output(self, req):
        with torch.no_grad():
            y, _ = self.model(self.x)
        y.contiguous().numpy().astype("<f4").tofile(req["path"])
        return {"ok": True}

    def time(self, req):
        ms = []
        model, x = self.model, self.x
        with torch.no_grad():
            for _ in range(int(req["reps"])):
                t0 = time.perf_counter()
                model(x)
                ms.append((time.perf_counter() - t0) * 1e3)
        return {"ms": ms}

    def rss(self, _req):
        # VmHWM: the peak of this program image. ru_maxrss would carry the parent's peak over fork and exec.
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return {"maxrss_kib": int(line.split()[1])}
        except OSError:
            pass
        return {"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}  # KiB on Linux


COMMANDS = {"info", "load", "threads", "output", "time", "rss"}


def main():
    peer = Peer()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if req.get("cmd") not in COMMANDS:
                raise ValueError(f"unknown command {req.get('cmd')!r}")
            reply = getattr(peer, req["cmd"])(req)
        except Exception as err:  # reported to Node, which decides what it means
            reply = {"error": f"{type(err).__name__}: {err}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
