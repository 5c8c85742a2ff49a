"""Carry the default model to a lent GPU machine that has no network, in parts small enough to travel.

Here, in the repository root:   python benchmarks/gpu/carry_model.py pack gpu/parts 4
There, once every part is in one folder:   python3 benchmarks/gpu/carry_model.py unpack DIR

The default model's float32 weights are 538 MB and one call carries at most 64 MiB, so ``pack``
rounds them to bfloat16 (the precision formtune trains the frozen base in), compresses them with
xz and splits the result into N parts of equal size; ``unpack`` joins the parts, decompresses,
casts back to float32 (exact: every bf16 value is a float32 value) and saves the model with its
config and tokenizer where formtune looks for the default model (``$FORMTUNE_CACHE/models``).
Both arms of the training benchmark then load the same float32 file, as they do on a CPU; the
weights differ from the released ones only by bf16 rounding.
"""

from __future__ import annotations

import lzma
import os
import shutil
import sys
from pathlib import Path

NAME = "SmolLM2-135M-Instruct"
SOURCE = Path.home() / ".cache" / "formtune" / "models" / NAME


def pack(out: Path, parts: int) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    out.mkdir(parents=True, exist_ok=True)
    weights = load_file(SOURCE / "model.safetensors")
    rounded = out / "bf16.safetensors"
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in weights.items()}, rounded,
              metadata={"format": "pt"})  # fmt: skip
    blob = lzma.compress(rounded.read_bytes(), preset=2)
    rounded.unlink()
    size = -(-len(blob) // parts)
    for i in range(parts):
        part = out / f"p{i + 1}"
        part.mkdir(exist_ok=True)
        (part / f"weights.xz.{i:02d}").write_bytes(blob[i * size:(i + 1) * size])
    for f in SOURCE.iterdir():
        if f.name != "model.safetensors":
            shutil.copy(f, out / f.name)
    print(f"{len(blob) / 2**20:.0f} MiB in {parts} parts of {size / 2**20:.0f} MiB under {out}/p*")


def unpack(folder: Path) -> None:
    import torch
    from safetensors.torch import load, save_file

    chunks = sorted(folder.glob("weights.xz.*"))
    weights = load(lzma.decompress(b"".join(c.read_bytes() for c in chunks)))
    final = Path(os.environ["FORMTUNE_CACHE"]) / "models" / NAME
    final.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float32) for k, v in weights.items()}, final / "model.safetensors",
              metadata={"format": "pt"})  # fmt: skip
    for f in folder.iterdir():
        if not f.name.startswith("weights.xz."):
            shutil.copy(f, final / f.name)
    print(f"default model (bf16-rounded weights, {len(chunks)} parts) at {final}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["pack"]:
        pack(Path(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["unpack"]:
        unpack(Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
