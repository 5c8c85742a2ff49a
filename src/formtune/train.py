"""The shared trainer: LoRA supervised fine-tuning with TRL's ``SFTTrainer``.

Every plugin ends up here.  A plugin produces rows in TRL's conversational shape::

    {"messages": [{"role": "system", "content": "..."},
                  {"role": "user", "content": "..."},
                  {"role": "assistant", "content": "{\\"name\\": \\"Ada\\"}"}],
     ...}                                   # any other keys are ignored

and :func:`train` does the rest.  Plugins never reach into the loop.

How the loss is masked
    Only the assistant's answer is learned.  SmolLM2's chat template (like most) has no
    ``{% generation %}`` markers, so each row is rewritten into TRL's *conversational
    prompt-completion* form, ``{"prompt": [system, user], "completion": [assistant]}``.
    ``SFTTrainer`` renders the prompt with ``add_generation_prompt=True`` and the whole chat
    without it; the tokens past their common prefix are the completion, and only they carry
    labels (``completion_only_loss``).  With a ChatML template the completion is the answer
    followed by ``<|im_end|>`` and a newline, so the model learns to stop.

What a run directory holds (``run_dir``)
    ``config.json``          the resolved :class:`TrainConfig`, model and library versions
    ``adapter/``             the LoRA adapter (+ tokenizer), loadable with :func:`load_tuned`
    ``train_metrics.json``   runtime, tokens/s, losses, whether the run was interrupted
    ``train_log.jsonl``      one JSON line per logged step (loss, learning rate, grad norm ...)
    ``checkpoints/``         Trainer checkpoints; a rerun resumes from the latest one

Stopping
    The first Ctrl-C finishes the current optimizer step, writes a checkpoint and the adapter and
    returns a :class:`TrainResult` with ``interrupted=True``; rerunning the same command resumes.
    A second Ctrl-C stops at once (the adapter is still saved from the weights in memory).

Speed (``benchmarks/train_throughput.py``; each lever's gain is in ``benchmarks/RESULTS.md``)
    The defaults are chosen for a small model on a laptop CPU, and the same code runs on CUDA:

    - bf16 where the hardware has it natively (CUDA, or a CPU with AMX / AVX512-BF16): the frozen
      model is held in bf16 and autocast runs the LoRA matmuls in bf16 too; the LoRA weights and
      their optimizer state stay float32 (``TrainConfig.resolved``, :func:`_no_input_casts`);
    - each LoRA layer is one autograd node: the scale is applied to the rank-r intermediate and
      the adapter's product is accumulated inside the base matmul (``formtune.fused_lora``);
    - the RMSNorms and the loss's cross-entropy compiled into one fused loop each way, eager where
      compiling fails (``formtune.compiled``);
    - packed batches: a batch's rows are laid end to end with no padding, and each row attends
      only to itself (``formtune.packing``);
    - only the answer's positions go through the 49k-wide LM head (``formtune.loss``);
    - no gradient checkpointing (a 135M model fits in memory many times over and recomputation
      costs a third more time), a fused AdamW, and one torch thread per core.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formtune import compiled, fused_lora
from formtune.errors import ModelError, TrainingError, first_line
from formtune.chat_templates import require_tool_template
from formtune.models import load_model, resolve_model
from formtune.train_callbacks import GracefulStop, callbacks
from formtune.train_config import TrainConfig

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["TrainResult", "load_tuned", "to_prompt_completion", "train"]

# PEFT and TRL read an attribute that transformers 5 deprecates, on every load: not the user's concern.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.* is deprecated", category=FutureWarning)


# --------------------------------------------------------------------------------------------
# results


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    run_dir: Path
    adapter_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False


# --------------------------------------------------------------------------------------------
# data


#: The message keys a chat template reads: the text, and the structured calls and results of
#: tool calling (``tool_calls`` on an assistant turn, ``name`` / ``tool_call_id`` on a tool turn).
MESSAGE_KEYS = ("role", "content", "tool_calls", "name", "tool_call_id")


def to_prompt_completion(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite ``{"messages": [...]}`` rows into ``{"prompt": [...], "completion": [assistant]}``.

    The last message must be the assistant's answer; everything before it is the prompt. A row's
    ``tools`` (definitions the chat template lists) are kept; its other keys are dropped, and so
    are message keys a chat template does not read. Raises :class:`TrainingError` naming the bad row.
    """
    out = []
    for i, row in enumerate(rows):
        messages = row.get("messages") if isinstance(row, dict) else None
        if not isinstance(messages, list) or len(messages) < 2:
            raise TrainingError(f"training row {i} has no 'messages' list with a prompt and an answer")
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
                raise TrainingError(f"training row {i}: every message needs a string 'role' and 'content'")
        if messages[-1]["role"] != "assistant":
            raise TrainingError(f"training row {i}: the last message must be the assistant's answer")
        kept = [{k: m[k] for k in MESSAGE_KEYS if k in m} for m in messages]
        out.append({"prompt": kept[:-1], "completion": kept[-1:], "tools": row.get("tools") or None})
    if not out:
        raise TrainingError("no training rows")
    return out


# --------------------------------------------------------------------------------------------
# the run


_RESUME_KEYS = ("lora_r", "lora_alpha", "target_modules", "batch_size", "grad_accum", "max_length", "packing", "seed")


def _trim_log(log_path: Path, after_step: int) -> None:
    """Drop log lines past ``after_step`` (they are replayed after resuming from a checkpoint)."""
    if not log_path.exists():
        return
    keep = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= after_step:
                keep.append(line)
        except json.JSONDecodeError:
            continue
    log_path.write_text("".join(k + "\n" for k in keep), encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("formtune", "torch", "transformers", "trl", "peft", "accelerate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def train(
    model_spec: str | os.PathLike[str] | None,
    rows_train: Iterable[dict[str, Any]],
    rows_eval: Iterable[dict[str, Any]] | None,
    config: TrainConfig | None,
    run_dir: str | os.PathLike[str],
) -> TrainResult:
    """Fine-tune a LoRA adapter on ``rows_train`` and write everything to ``run_dir``.

    ``model_spec`` is anything :func:`formtune.models.resolve_model` accepts.  ``rows_eval``
    (optional) is scored once per epoch (``eval_loss`` in the log and the metrics).  With
    ``config.resume`` (the default) a rerun on the same ``run_dir`` continues from its latest
    checkpoint; with ``resume=False`` old checkpoints are deleted and training starts over.
    """
    import torch

    config = (config or TrainConfig()).resolved()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir, adapter_dir, log_path = run_dir / "checkpoints", run_dir / "adapter", run_dir / "train_log.jsonl"

    train_rows = to_prompt_completion(rows_train)
    eval_rows = to_prompt_completion(rows_eval) if rows_eval else None

    # Resume or start over.
    last_ckpt = _latest_checkpoint(ckpt_dir)
    if last_ckpt and config.resume:
        _check_resumable(run_dir / "config.json", config)
    elif ckpt_dir.exists():
        import shutil

        shutil.rmtree(ckpt_dir)
        last_ckpt = None
    if last_ckpt is None:
        log_path.unlink(missing_ok=True)

    resolved_model = resolve_model(model_spec)
    _write_json(
        run_dir / "config.json",
        {
            "model": None if model_spec is None else os.fspath(model_spec),
            "model_path": os.fspath(resolved_model),
            "train": config.model_dump(mode="json"),
            "rows": {"train": len(train_rows), "eval": len(eval_rows or [])},
            "versions": _versions(),
        },
    )

    torch.set_num_threads(config.threads)
    model, tokenizer = load_model(resolved_model, for_training=True, dtype=config.dtype)
    if any(row["tools"] for row in train_rows):  # else the template would drop them without a word
        require_tool_template(tokenizer, resolved_model)
    trainer = _make_trainer(model, tokenizer, train_rows, eval_rows, config, ckpt_dir, log_path)

    if last_ckpt is not None:
        _trim_log(log_path, _step_of(last_ckpt))
        from formtune.models import _say

        _say(f"resuming from {last_ckpt}")

    interrupted = False
    started = time.perf_counter()
    with GracefulStop() as stop:
        from transformers.trainer_callback import ProgressCallback

        trainer.remove_callback(ProgressCallback)
        for cb in callbacks(log_path, stop):
            trainer.add_callback(cb)
        try:
            output = trainer.train(resume_from_checkpoint=os.fspath(last_ckpt) if last_ckpt else None)
            train_metrics = dict(output.metrics)
        except KeyboardInterrupt:
            train_metrics = {}
            interrupted = True
        interrupted = interrupted or stop.requested
    elapsed = time.perf_counter() - started

    trainer.save_model(os.fspath(adapter_dir))  # a PEFT model saves only the adapter
    tokenizer.save_pretrained(adapter_dir)
    saved = _step_of(_latest_checkpoint(ckpt_dir))
    if interrupted and saved < trainer.state.global_step:
        try:  # the second Ctrl-C skipped (or cut off) the trainer's own checkpoint: write one now
            trainer._save_checkpoint(trainer.model, trial=None)
        except Exception:  # pragma: no cover - a best effort; the adapter is already saved
            pass

    metrics = _summarise(trainer, train_metrics, elapsed, interrupted, config)
    metrics["resumed_from_step"] = _step_of(last_ckpt)
    if eval_rows and not interrupted:
        evals = metrics["eval_losses"]
        metrics["eval_loss"] = evals[-1] if evals else trainer.evaluate()["eval_loss"]
    _write_json(run_dir / "train_metrics.json", metrics)
    return TrainResult(run_dir=run_dir, adapter_dir=adapter_dir, metrics=metrics, interrupted=interrupted)


def _checkpointing_arg(config_class: type) -> str:
    """``activation_checkpointing`` in transformers >= 5.x, ``gradient_checkpointing`` before."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_class)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def _make_trainer(
    model: Any,
    tokenizer: Any,
    train_rows: list[dict[str, Any]],
    eval_rows: list[dict[str, Any]] | None,
    config: TrainConfig,
    ckpt_dir: Path,
    log_path: Path,
) -> Any:
    from peft import LoraConfig
    from trl import SFTConfig

    from formtune import packing
    from formtune.hardware import device
    from formtune.loss import trainer_class

    if config.packing:  # rows laid end to end, each attending only to itself (formtune.packing)
        model.set_attn_implementation(packing.register())
    args = SFTConfig(
        output_dir=os.fspath(ckpt_dir),
        # optimisation
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.grad_accum,
        optim="adamw_torch_fused",  # one kernel for all LoRA tensors instead of ~10 small ops per tensor
        seed=config.seed,
        # data: rows are cut to max_length here; packed batches get their collator below
        max_length=config.max_length,
        completion_only_loss=True,
        train_sampling_strategy="group_by_length" if config.group_by_length and not config.packing else "random",
        dataset_num_proc=None,
        dataloader_num_workers=0,
        # speed
        bf16=bool(config.bf16),
        fp16=False,
        use_cpu=device() == "cpu",
        **{_checkpointing_arg(SFTConfig): config.gradient_checkpointing},
        # bookkeeping
        logging_steps=config.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        eval_strategy="epoch" if eval_rows else "no",
        report_to="none",
        disable_tqdm=False,
        # packed: every token but the filler row (<= packing.MULTIPLE - 1 per batch) is real; the pad id may be a
        # real token (SmolLM2 pads with <|im_end|>), so "non_padding" would undercount
        include_num_input_tokens_seen="all" if config.packing else "non_padding",
    )
    peft_config = LoraConfig(
        task_type="CAUSAL_LM",
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
    )
    collator = packing.PackedCollator(tokenizer.pad_token_id) if config.packing else None
    try:
        trainer = trainer_class()(
            model=model,
            args=args,
            data_collator=collator,
            train_dataset=_dataset(train_rows),
            eval_dataset=_dataset(eval_rows) if eval_rows else None,
            processing_class=tokenizer,
            peft_config=peft_config,
        )
    except (ValueError, TypeError) as exc:
        raise TrainingError(f"cannot set up training: {first_line(exc)}") from exc
    fused_lora.install(trainer.model)
    compiled.install_norms(trainer.model)
    if config.bf16:
        _no_input_casts(trainer.model)  # for the layers that keep PEFT's own forward
    return trainer


def _dataset(rows: list[dict[str, Any]]) -> Any:
    """Prompt-completion rows as a ``datasets.Dataset`` that gives every message back as it was.
    Inferred Arrow types would merge the keys of all rows' tool-call arguments into one struct and
    fill each row's missing ones with null, which the chat template would then write out."""
    from datasets import Dataset, Features, Json, List

    return Dataset.from_list(rows, features=Features({"prompt": List(Json()), "completion": List(Json()),
                                                      "tools": Json()}))


def _no_input_casts(model: Any) -> None:
    """Under bf16 autocast, switch off PEFT's cast of each LoRA input to the adapter's float32.

    Autocast casts it straight back to bf16 for the matmul; with 7 adapted layers per block those
    round trips were a fifth of a step on a CPU.  The numbers do not change.
    """
    from peft.tuners.lora import LoraLayer

    for module in model.modules():
        if isinstance(module, LoraLayer):
            module.cast_input_dtype_enabled = False


def _latest_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest complete checkpoint; half-written ones (a kill during a save) are deleted."""
    import shutil

    for folder in reversed(_checkpoint_folders(ckpt_dir)):
        if _is_complete(folder):
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    return None


def complete_checkpoints(ckpt_dir: Path) -> list[Path]:
    """A run's complete checkpoints, oldest first (for evaluating each, e.g. ``benchmarks/checkpoints.py``)."""
    return [folder for folder in _checkpoint_folders(ckpt_dir) if _is_complete(folder)]


def _checkpoint_folders(ckpt_dir: Path) -> list[Path]:
    """The Trainer's ``checkpoint-<step>`` folders, oldest first (none where the folder is missing)."""
    return sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.name.rsplit("-", 1)[-1].isdigit()), key=_step_of)


def _is_complete(folder: Path) -> bool:
    """Whether a checkpoint was written to the end.

    The Trainer writes ``trainer_state.json`` last, into the checkpoint folder itself, so a folder
    without a readable one was cut off while saving (or is being written) and cannot be used.
    """
    try:
        json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        return True
    except (OSError, ValueError):
        return False


def _step_of(checkpoint: Path | None) -> int:
    return int(checkpoint.name.rsplit("-", 1)[-1]) if checkpoint else 0


def _check_resumable(config_path: Path, config: TrainConfig) -> None:
    """Refuse to resume a run whose shape (LoRA, batching, data order) differs from ``config``."""
    try:
        before = json.loads(config_path.read_text(encoding="utf-8"))["train"]
    except (OSError, ValueError, KeyError):
        return
    now = config.model_dump(mode="json")
    changed = [k for k in _RESUME_KEYS if k in before and before[k] != now[k]]
    if changed:
        k = changed[0]
        raise TrainingError(
            f"cannot resume {config_path.parent}: {k} was {before[k]!r}, now {now[k]!r}; "
            "use a new run dir or resume=False to start over"
        )


def _summarise(
    trainer: Any, train_metrics: dict[str, Any], elapsed: float, interrupted: bool, config: TrainConfig
) -> dict[str, Any]:
    state = trainer.state
    losses = [h["loss"] for h in state.log_history if "loss" in h]
    evals = [h["eval_loss"] for h in state.log_history if "eval_loss" in h]
    tokens = int(getattr(state, "num_input_tokens_seen", 0) or 0)
    metrics: dict[str, Any] = {
        "interrupted": interrupted,
        "global_step": state.global_step,
        "max_steps": state.max_steps,
        "epoch": round(state.epoch or 0.0, 4),
        "train_runtime_s": round(train_metrics.get("train_runtime", elapsed), 2),
        "tokens_seen": tokens,
        "tokens_per_second": round(tokens / elapsed, 1) if elapsed > 0 and tokens else None,
        "train_loss": train_metrics.get("train_loss"),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "eval_losses": evals,
        "bf16": config.bf16,
        "threads": config.threads,
        "device": str(trainer.args.device),
    }
    if metrics["train_loss"] is not None and not math.isfinite(metrics["train_loss"]):
        metrics["train_loss"] = None
    return metrics


# --------------------------------------------------------------------------------------------
# using the result


def load_tuned(
    model_spec: str | os.PathLike[str] | None,
    adapter_dir: str | os.PathLike[str] | None,
    *,
    merge: bool = True,
    dtype: Any = "auto",
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the base model with a trained adapter, ready for generation (eval mode, left padding).

    ``adapter_dir`` may be ``None`` (the base model alone, for before/after comparisons).  With
    ``merge=True`` the LoRA weights are folded into the base weights: generation then runs at the
    plain model's speed.
    """
    model, tokenizer = load_model(model_spec, for_training=False, dtype=dtype)
    if adapter_dir is None:
        return model, tokenizer
    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ModelError(f"{adapter_dir} holds no LoRA adapter (adapter_config.json is missing)")
    from peft import PeftModel

    try:
        tuned = PeftModel.from_pretrained(model, os.fspath(adapter_dir))
    except Exception as exc:
        raise ModelError(f"cannot apply the adapter in {adapter_dir}: {first_line(exc)}") from exc
    if merge:
        tuned = tuned.merge_and_unload()
    tuned.eval()
    return tuned, tokenizer
