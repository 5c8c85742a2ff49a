"""The decoder's RMSNorms compiled into one fused loop each way, with an eager fallback.

A transformers RMSNorm upcasts to float32, squares, averages, takes the rsqrt, multiplies, casts
back and scales: separate element-wise passes over the activations, forward and backward, 61 of
them a step for the 135M default.  On a 2-core CPU they were about a tenth of a training step, and
``torch.compile`` (inductor) fuses each into one loop that runs 2.6-6x faster
(``benchmarks/norm_kernels.py``, ``benchmarks/RESULTS.md``).  Whole decoder layers do not compile
well (the packed per-row attention breaks the graph); a norm is one small graph with a dynamic
token count, compiled once.

Compiling needs a working compiler toolchain (a C++ compiler on a CPU, Triton on a GPU).  Where
the first compiled call fails, every norm goes back to its eager forward for the rest of the run,
with one warning: the numbers are the same, only slower.
"""

from __future__ import annotations

import warnings
from typing import Any


def _is_rms_norm(module: Any) -> bool:
    # Every transformers decoder names its norm class ``<Model>RMSNorm`` (Llama, Qwen2, Gemma3, ...)
    return type(module).__name__.endswith("RMSNorm")


def install(model: Any) -> int:
    """Give every RMSNorm of ``model`` a compiled forward; returns how many.

    The module keeps its parameters and state-dict keys (only the bound ``forward`` is replaced),
    so saving and loading adapters is unaffected.
    """
    import torch

    norms = [m for m in model.modules() if _is_rms_norm(m)]
    fallback = {"eager": False}

    def compiled_forward(module: Any) -> Any:
        eager = module.forward
        compiled = torch.compile(eager, dynamic=True)

        def forward(*args: Any, **kwargs: Any) -> Any:
            if not fallback["eager"]:
                try:
                    return compiled(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - any compiler failure: eager computes the same
                    fallback["eager"] = True
                    warnings.warn(f"compiling the RMSNorms failed ({type(exc).__name__}); they run eagerly",
                                  RuntimeWarning, stacklevel=2)
            return eager(*args, **kwargs)

        return forward

    for norm in norms:
        norm.forward = compiled_forward(norm)
    return len(norms)


def uninstall(model: Any) -> None:
    """Undo :func:`install`: each norm's eager forward again (tests and benchmarks compare the two)."""
    for module in model.modules():
        if _is_rms_norm(module):
            module.__dict__.pop("forward", None)
