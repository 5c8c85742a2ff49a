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
    Each row is one causal SDPA call (grouped-query heads included): PyTorch's flash kernel, which
    never writes the ``heads x n x n`` scores to memory.  On a 2-core CPU with OpenMP threads
    put to sleep between operations (``OMP_WAIT_POLICY=PASSIVE``) the demo's attention, backward
    included, ran ~1.3x faster than scores as two matmuls around a float32 softmax; with the
    default OpenMP settings the two are within noise (``benchmarks/RESULTS.md``), and this form
    is the simpler one.  Sliding windows and soft-capped scores (Gemma), which that kernel
    cannot apply, still take the matmul form.  The rows are cut with ``split`` (whose backward is
    one concatenation), not by slicing (whose backward writes every row's gradient into a zeroed
    copy of the whole batch).
    """
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if cu_seq_lens_q is None or query.shape[0] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      sliding_window=sliding_window, softcap=softcap, **kwargs)  # fmt: skip
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    p = dropout if module.training else 0.0
    lengths = cu_seq_lens_q.diff().tolist()
    rows = zip(query.split(lengths, 2), key.split(lengths, 2), value.split(lengths, 2), strict=True)
    if not (sliding_window or softcap):
        sdpa = torch.nn.functional.scaled_dot_product_attention
        out = [sdpa(q, k, v, dropout_p=p, is_causal=True, scale=scale, enable_gqa=True) for q, k, v in rows]
        return torch.cat(out, dim=2).transpose(1, 2).contiguous(), None
    groups = query.shape[1] // key.shape[1]  # grouped-query attention: each key/value head serves `groups` heads
    out = []
    for q, k, v in rows:
        if groups > 1:
            k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        n = q.shape[2]
        hidden = torch.ones(n, n, dtype=torch.bool, device=q.device).triu_(1)  # the future
        if sliding_window and n > sliding_window:  # and, for sliding-window layers, the far past
            hidden |= torch.ones_like(hidden).tril_(-sliding_window)
        scores = torch.matmul(q, k.transpose(2, 3)).float().mul_(scale)
        if softcap:  # Gemma 2's soft-capped attention logits
            scores = torch.tanh(scores / softcap) * softcap
        scores = scores.masked_fill_(hidden, float("-inf"))
        probs = torch.nn.functional.dropout(scores.softmax(-1).to(v.dtype), p=p, training=p > 0)
        out.append(torch.matmul(probs, v))
    return torch.cat(out, dim=2).transpose(1, 2).contiguous(), None


def register() -> str:
    """Make :func:`varlen_attention` known to transformers (idempotent); returns its name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, varlen_attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)  # the padded fallback needs SDPA's masks
    return ATTENTION
