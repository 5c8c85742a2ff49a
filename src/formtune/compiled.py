"""Small graphs of element-wise passes compiled into fused loops, eager where compiling fails.

Eager PyTorch runs every element-wise operation as its own pass over memory, forward and backward.
On a 2-core CPU two such graphs of a training step were worth fusing with ``torch.compile``
(inductor), each a small graph whose token count changes from step to step:

- the decoder's RMSNorms (upcast to float32, square, average, rsqrt, multiply, cast back, scale;
  61 of them a step for the 135M default), 2.6-6x faster compiled (``benchmarks/norm_kernels.py``);
- the loss head's cross-entropy over the 49k-wide vocabulary (upcast, log-softmax, pick, and the
  argmax for the logged accuracy), about 4x faster compiled (``formtune.loss``).

Whole decoder layers do not compile well (the packed per-row attention breaks the graph), and the
other passes (the MLP's gate, the rotary embedding) gained too little to be worth a graph of their
own (``benchmarks/RESULTS.md``).

Compiling needs a working compiler toolchain (a C++ compiler on a CPU, Triton on a GPU).  Where the
first compiled call fails, the functions compiled together go back to eager for the rest of the
run, with one warning: the numbers are the same, only slower.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any


class Compiled:
    """Compiles functions that share one way back to eager.

    ``Compiled("the RMSNorms")(fn)`` is ``fn`` under ``torch.compile``, compiled at the first call.
    From the first failure of any function compiled by the same object, all of them run eagerly,
    after one ``RuntimeWarning`` that names ``what``.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.eager = False

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        compiled: list[Callable[..., Any]] = []  # made at the first call: importing torch is slow

        def call(*args: Any, **kwargs: Any) -> Any:
            if not self.eager:
                try:
                    if not compiled:
                        import torch

                        # Not dynamic=True: torch recompiles once, at the second shape, with only the
                        # dimensions that changed (the token count) symbolic. Kept static, the width
                        # (576, or the 49k vocabulary) lets inductor tile and vectorize the loops: the
                        # loss's forward ran 2x and the norms 1.3x faster on a 2-core AMX CPU.
                        compiled.append(torch.compile(fn))
                    return compiled[0](*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - any compiler failure: eager computes the same
                    self.eager = True
                    warnings.warn(f"compiling {self.what} failed ({type(exc).__name__}); running eagerly instead",
                                  RuntimeWarning, stacklevel=2)
            return fn(*args, **kwargs)

        return call


def _is_rms_norm(module: Any) -> bool:
    # Every transformers decoder names its norm class ``<Model>RMSNorm`` (Llama, Qwen2, Gemma3, ...)
    return type(module).__name__.endswith("RMSNorm")


def install_norms(model: Any) -> int:
    """Give every RMSNorm of ``model`` a compiled forward; returns how many.

    The module keeps its parameters and state-dict keys (only the bound ``forward`` is replaced),
    so saving and loading adapters is unaffected.
    """
    norms = [m for m in model.modules() if _is_rms_norm(m)]
    compiled = Compiled("the RMSNorms")
    for norm in norms:
        norm.forward = compiled(norm.forward)
    return len(norms)


def uninstall_norms(model: Any) -> None:
    """Undo :func:`install_norms`: each norm's eager forward again (tests and benchmarks compare the two)."""
    for module in model.modules():
        if _is_rms_norm(module):
            module.__dict__.pop("forward", None)
