"""``TrainConfig``: every setting that shapes a training run, as one typed pydantic model.

It lives apart from the trainer so that task files (``training:``) are checked against it without
importing torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from formtune.hardware import available_cpus, bf16_supported


class TrainConfig(BaseModel):
    """Everything that shapes a training run.  Defaults suit a ~100M-parameter model on a CPU."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # LoRA
    lora_r: int = Field(16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(32, ge=1, description="LoRA scaling numerator (the update is scaled by alpha / r).")
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout on the LoRA input.")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="Modules that get adapters: 'all-linear' (every linear layer but the head) or names."
    )

    # optimisation
    learning_rate: float = Field(5e-4, gt=0, description="Peak learning rate (LoRA wants 1e-4 .. 1e-3).")
    lr_scheduler: str = Field("cosine", description="transformers scheduler name: cosine, linear, constant ...")
    warmup: float = Field(0.05, ge=0, description="Warm-up: a fraction of all steps if < 1, else a step count.")
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    epochs: float = Field(3.0, gt=0, description="Passes over the training rows.")
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (overrides epochs when > 0).")
    batch_size: int = Field(8, ge=1, description="Rows per forward pass.")
    grad_accum: int = Field(1, ge=1, description="Forward passes per optimizer step.")
    max_length: int = Field(1024, ge=16, description="Longer rows are cut to this many tokens.")
    packing: bool = Field(
        True, description="Lay a batch's rows end to end (no padding computed); each row attends only to itself."
    )
    group_by_length: bool = Field(
        True, description="Without packing: batch rows of similar length together (less padding)."
    )
    seed: int = 0

    # bookkeeping
    logging_steps: int = Field(1, ge=1, description="Write a train_log.jsonl line every this many steps.")
    save_steps: int = Field(50, ge=1, description="Write a checkpoint every this many steps.")
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept (older ones are deleted).")
    eval_batch_size: int = Field(16, ge=1)
    resume: bool = Field(True, description="Resume from the run dir's latest checkpoint, if any.")

    # hardware
    threads: int | None = Field(None, ge=1, description="torch CPU threads; None = one per available core.")
    bf16: bool | None = Field(None, description="bf16 autocast; None = on where the hardware does bf16 natively.")
    gradient_checkpointing: bool = Field(False, description="Trade ~30% speed for memory; off for small models.")
    dtype: str = Field(
        "auto", description="Dtype of the frozen model ('auto' = bfloat16 where bf16 is on, else float32)."
    )

    def resolved(self) -> TrainConfig:
        """A copy with ``threads``, ``bf16`` and ``dtype`` decided for this machine.

        With bf16 the frozen model is held in bf16: autocast would cast every weight and most
        activations to bf16 before each matmul anyway, and those copies (plus float32 traffic in
        the element-wise ops) cost about a third of a step on a CPU.  The LoRA weights, their
        gradients and the optimizer state stay float32 (PEFT keeps adapters in float32).
        """
        bf16 = bf16_supported() if self.bf16 is None else self.bf16
        dtype = ("bfloat16" if bf16 else "float32") if self.dtype == "auto" else self.dtype
        return self.model_copy(update={"threads": self.threads or available_cpus(), "bf16": bf16, "dtype": dtype})
