"""What this machine offers the trainer and the evaluator: cores, native bf16, an accelerator.

torch is imported inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import os


def available_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def device() -> str:
    """Where training runs: ``"cuda"`` when a CUDA device is present, else ``"cpu"``.

    The trainer, the evaluator and the benchmarks all ask here, so one code path serves both.
    """
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def bf16_supported() -> bool:
    """True where bf16 math is native and fast: CUDA with bf16, or a CPU with AMX/AVX512-BF16.

    On other CPUs bf16 is emulated and slower than float32, so autocast stays off.
    """
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    if not torch.backends.mkldnn.is_available():
        return False
    return bool(_cpu_flags() & {"amx_bf16", "avx512_bf16"})
