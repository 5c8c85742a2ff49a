"""Batched greedy generation for the evaluator, and the decoding constraints it can apply.

Speed comes from four things, none of which changes what a completion is judged to be:

- prompts of similar length are batched together, so little time goes to padding;
- the language-model head gets a contiguous input (see :func:`_contiguous_head_input`);
- a row stops as soon as the task's format says its text can no longer become one valid document
  (``Format.viable``: an untuned model that opens with "Sure! Here is…" is hopeless after a few
  tokens, and would otherwise run to the token limit). Such a row keeps the text it had, marked
  ``hopeless``, and is scored invalid, as its full text would have been;
- compiled constraint indexes (the outlines-core automaton of a schema's regex over a tokenizer's
  vocabulary, seconds to build) are cached on disk, keyed by the regex and the vocabulary, in
  ``$FORMTUNE_CACHE/constraints`` (default ``~/.cache/formtune/constraints``).

The time spent inside the constraint is measured, so the evaluator can report its per-token cost.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


# Rows decoded together. A decode step on a CPU is bound by reading the weights, so a step of 64 rows
# costs little more than one of 16: the demo's four evaluations took 140 s at 64 and 188 s at 16
# (2 cores). For 64 rows of 700 tokens an 8B model's KV cache is ~6 GB, under its weights' 16 GB;
# lower `--batch-size` where memory is short.
BATCH_SIZE = 64


def constraint_cache_dir() -> Path:
    root = os.environ.get("FORMTUNE_CACHE")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "formtune") / "constraints"


@dataclass
class Constraint:
    """A logits processor that admits only what an outlines output type allows, timed."""

    processor: Any
    compile_s: float
    cached: bool
    seconds: float = 0.0  # time spent in the processor
    tokens: int = 0  # tokens it was applied to

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        began = time.perf_counter()
        out = self.processor(input_ids, scores)
        self.seconds += time.perf_counter() - began
        self.tokens += int(input_ids.shape[0])
        return out

    def reset(self) -> None:
        self.processor.reset()

    @property
    def ms_per_token(self) -> float | None:
        return 1000 * self.seconds / self.tokens if self.tokens else None


def build_constraint(model: Any, tokenizer: Any, output_type: Any) -> Constraint:
    """A timed logits processor for ``output_type`` (``JsonSchema``, ``Regex``, ``CFG``)."""
    import outlines
    from outlines.types.dsl import CFG, python_types_to_terms, to_regex

    began = time.perf_counter()
    om = outlines.from_transformers(model, tokenizer)
    term = python_types_to_terms(output_type)
    if isinstance(term, CFG):  # grammars go through outlines' own backend, uncached
        processor = outlines.Generator(om, output_type).logits_processor
        return Constraint(processor, time.perf_counter() - began, cached=False)
    from outlines.backends.outlines_core import OutlinesCoreBackend, OutlinesCoreLogitsProcessor

    backend = OutlinesCoreBackend(om)
    index, cached = _cached_index(to_regex(term), backend.vocabulary, tokenizer)
    processor = OutlinesCoreLogitsProcessor(index, backend.tensor_library_name)
    return Constraint(processor, time.perf_counter() - began, cached=cached)


def _cached_index(regex: str, vocabulary: Any, tokenizer: Any) -> tuple[Any, bool]:
    """The outlines-core index of ``regex`` over ``vocabulary``, from the disk cache when it is there."""
    from outlines_core import Index

    vocab = sorted(tokenizer.get_vocab().items())
    key = hashlib.sha256(repr((regex, vocab, tokenizer.eos_token_id, _outlines_version())).encode()).hexdigest()
    path = constraint_cache_dir() / f"{key}.pickle"
    try:
        return pickle.loads(path.read_bytes()), True
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    index = Index(regex, vocabulary)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(index))
    os.replace(tmp, path)  # whole or absent: a crash never leaves a torn entry
    return index, False


def _outlines_version() -> str:
    from importlib.metadata import version

    return version("outlines_core")


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    """The token ids that end a completion: every eos of the generation config, and padding."""
    eos = getattr(model.generation_config, "eos_token_id", None)
    ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id, tokenizer.pad_token_id}
    return {i for i in ids if i is not None}


def _completion_text(tokenizer: Any, ids: list[int], stop_ids: set[int]) -> str:
    """The text of generated ``ids`` up to the first stop token. Other special tokens are kept:
    some formats' completions are made of them (a tool call wrapped in ``<tool_call>`` tokens)."""
    end = next((n for n, token in enumerate(ids) if token in stop_ids), len(ids))
    return tokenizer.decode(ids[:end], skip_special_tokens=False)


def _hopeless_rows(tokenizer: Any, prompt_length: int, viable: Callable[[str], bool], stop_ids: set[int]) -> Any:
    """A stopping criterion that ends each row whose text can no longer become valid."""
    import torch
    from transformers import StoppingCriteria

    class Hopeless(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            texts = [_completion_text(tokenizer, row, stop_ids) for row in input_ids[:, prompt_length:].tolist()]
            return torch.tensor([not viable(t) for t in texts], device=input_ids.device)

    return Hopeless()


@contextmanager
def _contiguous_head_input(model: Any) -> Iterator[None]:
    """Hand the LM head a contiguous input while generating.

    At the prompt's forward pass transformers keeps the last position only, ``hidden[:, -1:, :]``:
    a view whose rows are a whole prompt apart. When the weights are frozen (a tuned model's base
    is), ``torch.matmul`` does not fold such a view into one matrix product: it multiplies by a
    copy of the head's weight expanded over the batch (batch x hidden x vocabulary: 0.9 GB for 16
    rows of the default model, 2.3 s of a 12 s batch on 2 cores, and twice that at 32 rows).
    Copying the small ``[batch, 1, hidden]`` input avoids it.
    """
    head = model.get_output_embeddings()
    handle = None if head is None else head.register_forward_pre_hook(
        lambda _module, args: (args[0].contiguous(), *args[1:]))
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()


def generate(model: Any, tokenizer: Any, conversations: list[dict[str, Any]], *, max_new_tokens: int,
             batch_size: int, constraint: Constraint | None = None, viable: Callable[[str], bool] | None = None,
             retry_room: int | None = None, on_batch: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Greedy completions of chat conversations in batches (shortest prompts batched together).

    A conversation is a chat row as :meth:`formtune.Format.conversation` makes it:
    ``{"messages": [...]}``, with ``"tools"`` for the chat template to list when it has them.
    Returns, per conversation: the completion, its prompt token count, its latency (the batch's
    wall time divided by the batch size, since a batch is decoded together), ``hopeless``: whether
    ``viable`` says it can no longer become valid (such a row was stopped as soon as that was so),
    and ``cut``: whether it ran out of room. With ``retry_room``, a row that runs out of
    ``max_new_tokens`` while it can still become valid is decoded once more, with the other such
    rows, with ``retry_room`` new tokens, and its latency is that of the second decoding: the
    evaluator's room is a guess from reference answers, and a model may rightly answer at more
    length (a working-out the references lack).
    """
    from formtune.chat_templates import require_tool_template

    if any(c.get("tools") for c in conversations):
        require_tool_template(tokenizer)
    prompts = [tokenizer.apply_chat_template(c["messages"], tools=c.get("tools") or None, tokenize=False,
                                             add_generation_prompt=True) for c in conversations]
    stop_ids = _stop_ids(model, tokenizer)
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: lengths[i])
    results: list[dict[str, Any]] = [{} for _ in prompts]

    def decode(rows: list[int], room: int, count: bool) -> None:
        """Decode ``rows`` (prompt indices) in batches with ``room`` new tokens into ``results``."""
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            texts, latency = _decode_batch(model, tokenizer, [prompts[i] for i in batch], room, stop_ids,
                                           constraint, viable)
            for i, (text, cut) in zip(batch, texts):
                hopeless = viable is not None and not viable(text)
                results[i] = {"completion": text.strip(), "prompt_tokens": lengths[i], "latency_s": latency,
                              "hopeless": hopeless, "cut": cut and not hopeless}
            if on_batch and count:
                on_batch(len(batch))

    decode(order, max_new_tokens, count=True)
    if retry_room is not None:
        decode([i for i in order if results[i]["cut"]], retry_room, count=False)
    return results


def _decode_batch(model: Any, tokenizer: Any, prompts: list[str], room: int, stop_ids: set[int],
                  constraint: Constraint | None, viable: Callable[[str], bool] | None
                  ) -> tuple[list[tuple[str, bool]], float]:
    """Greedy completions of one batch of prompts, each with whether it ran out of room (no stop
    token in ``room`` new tokens), and the batch's wall time per row."""
    import torch
    from transformers import LogitsProcessorList, StoppingCriteriaList

    inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    width = inputs["input_ids"].shape[1]
    extra: dict[str, Any] = {}
    if constraint is not None:
        constraint.reset()
        extra["logits_processor"] = LogitsProcessorList([constraint])
    if viable is not None:
        extra["stopping_criteria"] = StoppingCriteriaList([_hopeless_rows(tokenizer, width, viable, stop_ids)])
    began = time.perf_counter()
    with torch.inference_mode(), _contiguous_head_input(model):
        out = model.generate(**inputs, max_new_tokens=room, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                             **extra)
    latency = (time.perf_counter() - began) / len(prompts)
    rows = out[:, width:].tolist()
    return [(_completion_text(tokenizer, row, stop_ids), not stop_ids.intersection(row)) for row in rows], latency
