"""One packed row's causal attention, forward and backward: PyTorch's flash kernel against formtune's matmul form.

    .venv/bin/python benchmarks/attention_rows.py [THREADS]

The default model's attention shapes (9 query heads sharing 3 key/value heads, head dim 64, bf16)
at row lengths from 32 to 2,400 tokens; for each it prints the milliseconds of both and the
kernel's time over the matmuls'. ``packing.MATMUL_ROWS_UP_TO`` is where the ratio falls towards 1
(``benchmarks/RESULTS.md``, "Thirteenth sitting"). Run it alone on the machine.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch

from formtune.packing import _attention_by_matmuls


def milliseconds(step: Callable[[], None], repeats: int = 5) -> float:
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads())
    print(f"{torch.get_num_threads()} threads; ms for forward and backward of one row")
    for n in (32, 100, 300, 600, 1200, 2400):
        q, k, v = (torch.randn(1, heads, n, 64, dtype=torch.bfloat16, requires_grad=True) for heads in (9, 3, 3))
        grad = torch.randn(1, 9, n, 64, dtype=torch.bfloat16)
        kernel = milliseconds(lambda: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=True, scale=0.125, enable_gqa=True).backward(grad))
        matmuls = milliseconds(lambda: _attention_by_matmuls(q, k, v, 0.125, 0.0, None, None).backward(grad))
        print(f"{n:5d} tokens: flash kernel {kernel:8.2f}   matmuls {matmuls:8.2f}   ratio {kernel / matmuls:.2f}")


if __name__ == "__main__":
    main()
