"""The completion-only loss: only the answer is scored, and only its positions reach the LM head.

A batch arrives from TRL's collator with ``labels`` set to ``-100`` everywhere but the answer (the
prompt, the padding, and in a packed batch the first token of every row).  The loss is the usual
next-token cross-entropy: the hidden state at position ``t`` predicts the label at ``t + 1``.

Why not TRL's own loss
    TRL's fused LM head scores only the labelled positions on CUDA (a Triton kernel), but on a CPU
    it projects *every* position through the 49k-wide head in float32 tiles and also computes the
    entropy of each, which costs more than the rest of the model.  Here the backbone runs as
    usual and only the hidden states whose next token is labelled go through the head: about half
    of the demo's tokens.  The value is the same token-summed cross-entropy divided by
    ``num_items_in_batch`` (the labelled tokens of the whole optimizer step) that TRL computes;
    ``mean_token_accuracy`` is still logged.  The cross-entropy over the 49k-wide logits (upcast,
    log-softmax, pick, argmax) runs compiled into one pass each way (``formtune.compiled``).

Anything unusual (several processes, logit soft-capping or scaling, ``return_outputs``) takes
TRL's own path, which is also correct, only slower.
"""

from __future__ import annotations

from typing import Any

from formtune.compiled import Compiled

IGNORE = -100

#: The rows sent through the head are rounded up to a multiple of this. On a CPU, oneDNN compiles
#: and caches a kernel per matmul shape, several MB each for the 49k-wide head; a row count that
#: changed every step filled its 1,024-kernel cache, whose evictions then made steps 20-40 % slower
#: as a run went on. Rounded, a few shapes recur.
HEAD_ROWS_MULTIPLE = 32

#: Config fields that change the logits after the head; the plain path below does not apply them.
_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling", "output_multiplier")


def causal_lm(model: Any) -> Any:
    """The ``...ForCausalLM`` inside a PEFT wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def plain_head(model: Any) -> bool:
    """True when the logits are exactly ``lm_head(hidden)`` (no soft-capping or scaling)."""
    text_config = causal_lm(model).config.get_text_config()
    return not any(getattr(text_config, k, None) not in (None, 1.0) for k in _LOGIT_TRANSFORMS)


def completion_logits(model: Any, inputs: dict[str, Any]) -> tuple[Any, Any]:
    """``(logits, targets)`` of the labelled positions only: ``logits[i]`` predicts ``targets[i]``;
    up to ``HEAD_ROWS_MULTIPLE - 1`` filler rows at the end have the target ``IGNORE``.

    ``inputs`` is a collated batch (padded with ``attention_mask``, or packed with ``position_ids``
    and ``cu_seq_lens_*``) holding ``labels``.  The logits are in the head's (or autocast's) dtype.
    """
    import torch

    lm = causal_lm(model)
    labels = inputs["labels"][:, 1:]  # the label of position t + 1 ...
    backbone_inputs = {k: v for k, v in inputs.items() if k != "labels"}
    hidden = lm.base_model(**backbone_inputs, use_cache=False).last_hidden_state[:, :-1]  # ... is scored at t
    keep = labels != IGNORE
    rows, targets = hidden[keep], labels[keep]
    filler = -len(rows) % HEAD_ROWS_MULTIPLE  # zero rows with no target: cross-entropy ignores them
    if filler:
        rows = torch.cat([rows, rows.new_zeros(filler, rows.shape[1])])
        targets = torch.cat([targets, targets.new_full((filler,), IGNORE)])
    return lm.get_output_embeddings()(rows), targets


def _cross_entropy(logits: Any, targets: Any) -> tuple[Any, Any]:
    """``(summed cross-entropy, how many argmaxes are right)`` over the rows whose target is not
    ``IGNORE``, computed in float32 whatever the logits' dtype."""
    import torch.nn.functional as F

    logits = logits.float()
    loss_sum = F.cross_entropy(logits, targets, reduction="sum", ignore_index=IGNORE)
    return loss_sum, (logits.detach().argmax(-1) == targets).sum()


#: :func:`_cross_entropy` compiled: one pass over the logits each way instead of several (about 4x faster).
cross_entropy = Compiled("the loss's cross-entropy")(_cross_entropy)


def completion_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> tuple[Any, Any, Any]:
    """``(loss, n_correct, n_labelled)``: summed cross-entropy over the answer tokens / ``num_items_in_batch``.

    Without ``num_items_in_batch`` the sum is divided by this batch's own labelled tokens (a mean).
    """
    import torch

    logits, targets = completion_logits(model, inputs)
    loss_sum, n_correct = cross_entropy(logits, targets)
    n_labelled = int((targets != IGNORE).sum())
    denominator = n_labelled if num_items_in_batch is None else num_items_in_batch
    loss = loss_sum / torch.as_tensor(denominator, device=loss_sum.device).clamp(min=1)
    return loss, n_correct, n_labelled


def trainer_class() -> type:
    """TRL's ``SFTTrainer`` with :func:`completion_loss` as its training loss (see the module docstring)."""
    from trl import SFTTrainer

    class CompletionOnlySFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001
            if return_outputs or self.accelerator.num_processes != 1 or not plain_head(model):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            # accelerate applies mixed precision by wrapping `model.forward`, which this path bypasses.
            with self.accelerator.autocast():
                loss, n_correct, n_labelled = completion_loss(model, inputs, num_items_in_batch)
            mode = "train" if model.training else "eval"
            self._metrics[mode]["mean_token_accuracy"].append(n_correct.item() / max(n_labelled, 1))
            return loss

    return CompletionOnlySFTTrainer
