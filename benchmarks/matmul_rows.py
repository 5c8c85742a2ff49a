"""bf16 matmul throughput by row count on the default model's linear shapes, on all threads and on one.

    .venv/bin/python benchmarks/matmul_rows.py [--rows 512 576 ... ] [--seconds 0.3]

A training step multiplies ``tokens x in`` activations by each frozen ``in x out`` weight (forward)
and ``tokens x out`` gradients by its transpose (backward), so the packed token count of a step is
the matmuls' row count. The CPU's matmul library (oneDNN) splits each product among the threads by
its own rules, and on some row counts it may leave threads idle; this prints, per shape and row
count, GFLOP/s on all threads and on one, and their ratio (the speed-up the extra threads give).
A ratio near 1 on a machine with several cores is a row count where the extra threads do nothing.
"""

from __future__ import annotations

import argparse
import time

#: The 135M default's linear shapes (in, out): attention q/o, k/v, MLP up/gate, MLP down.
SHAPES = [(576, 576), (576, 192), (576, 1536), (1536, 576)]


def gflops(rows: int, k: int, n: int, seconds: float) -> float:
    """Best of three timed windows of ``rows x k @ k x n`` in bf16."""
    import torch

    a = torch.randn(rows, k, dtype=torch.bfloat16)
    w = torch.randn(n, k, dtype=torch.bfloat16).t()  # as nn.Linear stores and uses it
    a @ w  # warm-up: oneDNN builds the kernel for this shape
    best = 0.0
    for _ in range(3):
        calls, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds / 3:
            a @ w
            calls += 1
        best = max(best, 2 * rows * k * n * calls / (time.perf_counter() - began) / 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[512, 576, 768, 960, 1152, 1344, 1536, 2048])
    parser.add_argument("--seconds", type=float, default=0.3, help="timed seconds per shape and row count")
    args = parser.parse_args()

    import torch

    threads = torch.get_num_threads()
    print(f"{threads} threads; GFLOP/s on {threads} threads / on 1 thread (ratio)")
    print("rows  " + "  ".join(f"{f'{k}x{n}':>22s}" for k, n in SHAPES))
    for rows in args.rows:
        cells = []
        for k, n in SHAPES:
            torch.set_num_threads(threads)
            many = gflops(rows, k, n, args.seconds)
            torch.set_num_threads(1)
            one = gflops(rows, k, n, args.seconds)
            cells.append(f"{many:5.0f} / {one:5.0f} ({many / one:4.2f}x)")
        torch.set_num_threads(threads)
        print(f"{rows:5d} " + "  ".join(f"{c:>22s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
