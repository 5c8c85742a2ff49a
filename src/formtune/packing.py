"""Padding-free batches: the rows of a batch laid end to end, each attending only to itself.

TRL's collator (``DataCollatorForLanguageModeling(padding_free=True)``) turns a batch of rows into
one row of all their tokens, with ``position_ids`` restarting at 0 for every row and the row
boundaries in ``cu_seq_lens_q``/``cu_seq_lens_k``; the first token of every row carries no label,
so no row is ever scored on a prediction made from the row before it.  No padding token is ever
computed.

The packed length is rounded up to a multiple of :data:`MULTIPLE` by one extra, unlabelled filler
row (:class:`PackedCollator`).  On a CPU, oneDNN builds (JIT-compiles) a matmul kernel for every
new shape, ~5-10 ms each for the ~40 shapes of a training step; a packed length that changes on
every step paid that on every step.  Rounded, the lengths repeat and the kernels are reused.

What keeps the rows apart is the attention.  On CUDA with flash-attention installed the varlen
kernel reads the boundaries; everywhere else transformers' SDPA path would build one block-diagonal
mask over the whole packed row and compute every masked-out score (the cost grows with the square
of the *batch's* token count).  :func:`varlen_attention` instead attends within each row's own
tokens, which costs what the rows cost unpacked and can never mix two rows.  It is registered with
transformers as the attention implementation ``"formtune_varlen"``; a batch without boundaries
(evaluation, generation) falls through to plain SDPA.
"""

from __future__ import annotations

import functools
from typing import Any

ATTENTION = "formtune_varlen"
#: Packed lengths are rounded up to a multiple of this (a few percent of filler at the demo's sizes).
MULTIPLE = 64


class PackedCollator:
    """TRL's padding-free collator, plus a filler row that rounds the packed length up to ``multiple``.

    The filler is a row of its own (positions from 0, its own ``cu_seq_lens`` boundary, no labels),
    so it attends only to itself and never reaches the loss.
    """

    def __init__(self, pad_token_id: int, multiple: int | None = None) -> None:
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

        self.collate = DataCollatorForLanguageModeling(pad_token_id, padding_free=True)
        self.pad_token_id, self.multiple = pad_token_id, multiple or MULTIPLE

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        batch = self.collate(examples)
        n = batch["input_ids"].shape[1]
        fill = -n % self.multiple
        if fill:
            filler = batch["input_ids"].new_full((1, fill), self.pad_token_id)
            batch["input_ids"] = torch.cat([batch["input_ids"], filler], 1)
            batch["labels"] = torch.cat([batch["labels"], batch["labels"].new_full((1, fill), -100)], 1)
            batch["position_ids"] = torch.cat([batch["position_ids"], torch.arange(fill)[None]], 1)
            ends = batch["cu_seq_lens_q"].new_tensor([n + fill])
            batch["cu_seq_lens_q"] = batch["cu_seq_lens_k"] = torch.cat([batch["cu_seq_lens_q"], ends])
            batch["max_length_q"] = batch["max_length_k"] = max(batch["max_length_q"], fill)
            last = batch["seq_idx"][0, -1] + 1
            batch["seq_idx"] = torch.cat([batch["seq_idx"], batch["seq_idx"].new_full((1, fill), int(last))], 1)
        return batch


def varlen_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    dropout: float = 0.0,
    cu_seq_lens_q: Any = None,
    sliding_window: int | None = None,
    softcap: float | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """Causal attention within each packed row; ``query``/``key``/``value`` are ``(1, heads, tokens, dim)``.

    Returns ``(output (1, tokens, heads, dim), None)`` like transformers' attention functions.
    On a CPU, a row of up to :data:`MATMUL_ROWS_UP_TO` tokens is two batched matmuls around a
    softmax (:func:`_attention_by_matmuls`); a longer row, or any row on a GPU, is one causal
    SDPA call, whose flash kernel never writes the ``heads x n x n`` scores to memory.  PyTorch's
    CPU flash kernel runs short rows at ~30 GFLOP/s in bf16: on rows of 100-300 tokens (the
    examples' rows) the matmuls do forward and backward 2-3.5x faster, and from ~600 tokens on
    the kernel is faster (``benchmarks/RESULTS.md``, thirteenth sitting).  Sliding windows and
    soft-capped scores (Gemma), which that kernel cannot apply, always take the matmul form.
    The rows are cut with ``split`` (whose backward is one concatenation), not by slicing (whose
    backward writes every row's gradient into a zeroed copy of the whole batch).
    """
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if cu_seq_lens_q is None or query.shape[0] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      sliding_window=sliding_window, softcap=softcap, **kwargs)  # fmt: skip
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    p = dropout if module.training else 0.0
    lengths = _row_lengths(cu_seq_lens_q)
    rows = zip(query.split(lengths, 2), key.split(lengths, 2), value.split(lengths, 2), strict=True)
    up_to = MATMUL_ROWS_UP_TO if query.device.type == "cpu" else 0
    out = []
    for q, k, v in rows:
        if sliding_window or softcap or q.shape[2] <= up_to:
            out.append(_attention_by_matmuls(q, k, v, scale, p, sliding_window, softcap))
        else:
            out.append(torch.nn.functional.scaled_dot_product_attention(
                q, k, v, dropout_p=p, is_causal=True, scale=scale, enable_gqa=True))
    return torch.cat(out, dim=2).transpose(1, 2).contiguous(), None


#: On a CPU, packed rows up to this many tokens attend by matmuls, longer ones by the flash kernel.
MATMUL_ROWS_UP_TO = 512

#: The boundaries tensor :func:`_row_lengths` last read, and the row lengths it held.
_last_read: tuple[Any, list[int]] | None = None


def _row_lengths(cu_seq_lens: Any) -> list[int]:
    """The packed rows' lengths, read once per batch: every layer is given the same boundaries
    tensor, and on a GPU reading it (``tolist``) waits for all the work queued before it, which
    would be one stall of the GPU's queue per layer.  The reference held keeps that tensor alive, so
    the identity check can never match a newer batch's tensor."""
    global _last_read
    if _last_read is None or _last_read[0] is not cu_seq_lens:
        _last_read = (cu_seq_lens, cu_seq_lens.diff().tolist())
    return _last_read[1]


def _attention_by_matmuls(q: Any, k: Any, v: Any, scale: float, p: float, window: int | None,
                          softcap: float | None) -> Any:
    """One row's causal attention, ``(1, heads, n, dim)``, as scores and a softmax in memory.

    Grouped-query heads are not repeated: the query heads that share a key/value head are stacked
    along the rows of one matrix, so each key/value head is one ``baddbmm`` that adds the causal
    mask (``-inf`` above the diagonal, and beyond a sliding window) while it scales the product.
    The softmax computes in float32 and returns the scores' dtype (bf16 under training).
    """
    import torch

    _, heads, n, dim = q.shape
    kv_heads = k.shape[1]
    groups = heads // kv_heads  # query heads h = g * groups + j share key/value head g
    q = q.reshape(kv_heads, groups * n, dim)
    keys = k[0].transpose(1, 2)
    bias = _causal_bias(n, groups, window, q.dtype if not softcap else torch.float32, q.device)
    if softcap:  # Gemma 2's soft-capped attention logits, in float32
        scores = torch.tanh(torch.bmm(q, keys).float() * (scale / softcap)) * softcap + bias
    else:
        scores = torch.baddbmm(bias, q, keys, alpha=scale)
    probs = torch.nn.functional.dropout(scores.softmax(-1).to(v.dtype), p=p, training=p > 0)
    return torch.bmm(probs, v[0]).view(1, heads, n, dim)


@functools.lru_cache(maxsize=32)
def _causal_bias(n: int, groups: int, window: int | None, dtype: Any, device: Any) -> Any:
    """``(groups * n, n)``: 0 where a token may attend, ``-inf`` for the future (and the far past
    with a window), once per query head of a group.  Cached: every layer of a step asks for the
    same rows' biases (read-only: ``baddbmm`` and the soft-capped sum never write into them)."""
    import torch

    hidden = torch.ones(n, n, dtype=torch.bool, device=device).triu_(1)
    if window and n > window:
        hidden |= torch.ones_like(hidden).tril_(-window)
    return torch.zeros(n, n, dtype=dtype, device=device).masked_fill_(hidden, float("-inf")).repeat(groups, 1)


def register() -> str:
    """Make :func:`varlen_attention` known to transformers (idempotent); returns its name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, varlen_attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)  # the padded fallback needs SDPA's masks
    return ATTENTION
