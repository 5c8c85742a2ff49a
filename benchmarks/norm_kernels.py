"""RMSNorm forward and backward on the CPU: the model's own module, torch's `rms_norm`, and the module
under `torch.compile` as the trainer compiles it (`formtune.compiled`), on the default model's width,
bf16, at packed-batch lengths.

A lever probe for the trainer (issue: speed). The decoder's 61 norms upcast to float32 and run
several element-wise passes each, forward and backward; a compiled norm fuses them. Prints each
variant's time (best of three rounds) and its ratio to the module, and the largest difference of
the input gradient from the module's. Usage: python benchmarks/norm_kernels.py [THREADS]
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch
from transformers.models.llama.modeling_llama import LlamaRMSNorm

from formtune.compiled import Compiled

WIDTH, EPS, NORMS_PER_STEP = 576, 1e-5, 61  # SmolLM2-135M: 30 layers x 2 norms + the final one


def best_ms(norm: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, reps: int = 50) -> float:
    """Best mean time of forward + backward over three rounds, after a warm-up."""
    for _ in range(5):
        norm(x).sum().backward()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            norm(x).sum().backward()
        best = min(best, (time.perf_counter() - start) / reps)
    return best * 1e3


def input_grad(norm: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_()
    (norm(x) * g).sum().backward()
    return x.grad.float()


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    module = LlamaRMSNorm(WIDTH, eps=EPS).to(torch.bfloat16)
    with torch.no_grad():
        module.weight.uniform_(0.5, 1.5)
    start = time.perf_counter()
    compiled = Compiled("the RMSNorm")(module)  # as the trainer compiles the norms
    compiled(torch.randn(1, 64, WIDTH, dtype=torch.bfloat16, requires_grad=True)).sum().backward()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; compile {time.perf_counter() - start:.1f} s")
    variants = {
        "module (float32 inside)": module,
        "torch rms_norm, bf16": lambda x: torch.nn.functional.rms_norm(x, (WIDTH,), module.weight, EPS),
        "module under torch.compile": compiled,
    }
    for tokens in (512, 1000, 2048, 4096):
        x = torch.randn(1, tokens, WIDTH, dtype=torch.bfloat16, requires_grad=True)
        g = torch.randn_like(x)
        reference = input_grad(module, x, g)
        base = best_ms(module, x)
        for name, norm in variants.items():
            ms = base if norm is module else best_ms(norm, x)
            diff = (input_grad(norm, x, g) - reference).abs().max().item()
            print(f"{tokens:5d} tokens  {name:28s} {ms:7.3f} ms  module / this {base / ms:5.2f}x  "
                  f"x{NORMS_PER_STEP} a step {NORMS_PER_STEP * ms:6.0f} ms  max |dx - module's| {diff:.1e}")


if __name__ == "__main__":
    main()
