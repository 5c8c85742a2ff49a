"""formtune's own loss and packed batches, through formtune's own trainer, on the tiny model.

Each value is checked against one computed independently here: the cross-entropy of the answer
tokens from the model's full logits, rows run one at a time without packing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")

import torch.nn.functional as F  # noqa: E402

from formtune.loss import completion_loss  # noqa: E402
from formtune.models import load_model  # noqa: E402
from formtune.train import _make_trainer, to_prompt_completion  # noqa: E402
from formtune.train_config import TrainConfig  # noqa: E402

SYSTEM = "Extract the person as JSON."


def _rows() -> list[dict]:
    people = [("Ada", 36), ("Grace Hopper", 85), ("Al", 7), ("Barbara Liskov", 84)]
    return [
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Hello, I'm {name}." + " Mail me." * i},
                {"role": "assistant", "content": json.dumps({"name": name, "age": age})},
            ]
        }
        for i, (name, age) in enumerate(people)
    ]


def _trainer(tiny_model: Path, tmp_path: Path, lora_seed: int = 1, **kw: object):  # noqa: ANN202
    """formtune's trainer exactly as ``train`` builds it, LoRA weights moved off zero (drawn with ``lora_seed``)."""
    settings = {"batch_size": 4, "lora_r": 4, "lora_alpha": 8, "threads": 1, "bf16": False, **kw}
    config = TrainConfig(**settings).resolved()
    model, tokenizer = load_model(tiny_model, for_training=True, dtype=config.dtype)  # as train() loads it
    trainer = _make_trainer(model, tokenizer, to_prompt_completion(_rows()), None, config,
                            tmp_path / "ckpt", tmp_path / "log.jsonl")  # fmt: skip
    torch.manual_seed(lora_seed)
    with torch.no_grad():  # LoRA B starts at zero; a trained adapter must change the logits
        for name, p in trainer.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return trainer, tokenizer


def _answer_start(tokenizer, row: dict) -> int:  # noqa: ANN001
    prompt = tokenizer.apply_chat_template(row["messages"][:-1], add_generation_prompt=True, tokenize=False)
    return len(tokenizer(prompt, add_special_tokens=False)["input_ids"])


def _full_ids(tokenizer, row: dict) -> list[int]:  # noqa: ANN001
    text = tokenizer.apply_chat_template(row["messages"], tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _reference_loss(model, tokenizer) -> torch.Tensor:  # noqa: ANN001
    """Mean cross-entropy of every answer token, each row alone through the model's own forward."""
    total, count = torch.zeros(()), 0
    for row in _rows():
        ids = torch.tensor([_full_ids(tokenizer, row)])
        start = _answer_start(tokenizer, row)
        logits = model(input_ids=ids).logits[0].float()
        # the logits at position t predict token t + 1: the answer tokens ids[start:] are scored at start-1 ...
        total = total + F.cross_entropy(logits[start - 1 : -1], ids[0, start:], reduction="sum")
        count += ids.shape[1] - start
    return total / count


def _batch(trainer) -> dict:  # noqa: ANN001
    return trainer.data_collator([trainer.train_dataset[i] for i in range(len(trainer.train_dataset))])


@pytest.mark.parametrize("packing", [True, False])
def test_only_the_answer_and_its_end_of_turn_carry_labels(tiny_model: Path, tmp_path: Path, packing: bool) -> None:
    trainer, tokenizer = _trainer(tiny_model, tmp_path, packing=packing)
    batch = _batch(trainer)
    if packing:  # one row of all the rows' tokens, then one unlabelled filler row up to a multiple of 64
        real = sum(len(_full_ids(tokenizer, r)) for r in _rows())
        assert batch["input_ids"].shape == (1, -(-real // 64) * 64) and "attention_mask" not in batch
        assert batch["cu_seq_lens_q"][-2] == real and (batch["labels"][0, real:] == -100).all()
    ids, labels = batch["input_ids"].flatten().tolist(), batch["labels"].flatten().tolist()
    learned = tokenizer.decode([t for t, lab in zip(ids, labels, strict=True) if lab != -100])
    expected = "".join(r["messages"][-1]["content"] + "<|im_end|>\n" for r in _rows())
    assert learned == expected
    assert SYSTEM not in learned and "Hello" not in learned


@pytest.mark.parametrize("packing", [True, False])
def test_formtune_loss_is_the_cross_entropy_of_the_answer_tokens(tiny_model: Path, tmp_path: Path,
                                                                 packing: bool) -> None:  # fmt: skip
    trainer, tokenizer = _trainer(tiny_model, tmp_path, packing=packing)
    batch = _batch(trainer)
    ours = trainer.compute_loss(trainer.model, batch)
    reference = _reference_loss(trainer.model, tokenizer)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)
    # and as the trainer uses it, summed over the step's labelled tokens (here: this batch's)
    n = sum(len(_full_ids(tokenizer, r)) - _answer_start(tokenizer, r) for r in _rows())
    summed = trainer.compute_loss(trainer.model, batch, num_items_in_batch=torch.tensor(2 * n))
    torch.testing.assert_close(summed, reference / 2, rtol=1e-5, atol=1e-6)
    assert trainer._metrics["train"]["mean_token_accuracy"]  # still logged


@pytest.mark.parametrize("packing", [True, False])
def test_formtune_loss_matches_trl_own_loss_on_the_same_batch(tiny_model: Path, tmp_path: Path, packing: bool) -> None:
    from trl import SFTTrainer

    trainer, _ = _trainer(tiny_model, tmp_path, packing=packing)
    batch = _batch(trainer)
    trl_loss = SFTTrainer.compute_loss(trainer, trainer.model, dict(batch))
    torch.testing.assert_close(trainer.compute_loss(trainer.model, dict(batch)), trl_loss, rtol=1e-5, atol=1e-6)

    fast, _ = _trainer(tiny_model, tmp_path / "bf16", packing=packing, bf16=True)  # same seed, same weights
    assert next(p for n, p in fast.model.named_parameters() if "base_layer" in n).dtype == torch.bfloat16
    torch.testing.assert_close(fast.compute_loss(fast.model, dict(batch)), trl_loss, rtol=2e-2, atol=1e-3)


def test_packed_rows_never_see_each_other(tiny_model: Path, tmp_path: Path) -> None:
    """Changing one packed row changes nothing in the others; each row scores as if it were alone."""
    trainer, tokenizer = _trainer(tiny_model, tmp_path, packing=True)
    trainer.model.eval()
    examples = [dict(trainer.train_dataset[i]) for i in range(4)]
    lengths = [len(e["input_ids"]) for e in examples]

    def logits_of(batch_examples: list[dict]) -> torch.Tensor:
        batch = trainer.data_collator(batch_examples)
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        with torch.no_grad():
            return trainer.model(**inputs).logits[0]

    packed = logits_of(examples)
    # each row alone, unpacked (plain causal attention, positions from 0): the same logits
    for i, n in enumerate(lengths):
        with torch.no_grad():
            alone = trainer.model(input_ids=torch.tensor([examples[i]["input_ids"]])).logits[0]
        torch.testing.assert_close(packed[sum(lengths[:i]) : sum(lengths[:i]) + n], alone, rtol=1e-5, atol=1e-5)

    # rewrite row 1 (other tokens, other length): rows 0, 2 and 3 keep their logits and losses
    changed = [dict(e) for e in examples]
    changed[1]["input_ids"] = [(t * 7 + 3) % len(tokenizer) for t in examples[1]["input_ids"][:-3]]
    changed[1]["labels"] = changed[1]["input_ids"]
    after = logits_of(changed)
    shift = lengths[1] - len(changed[1]["input_ids"])
    torch.testing.assert_close(after[: lengths[0]], packed[: lengths[0]], rtol=1e-5, atol=1e-5)
    start, end = lengths[0] + lengths[1], sum(lengths)
    torch.testing.assert_close(after[start - shift : end - shift], packed[start:end], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(after[lengths[0] : start - shift], packed[lengths[0] : lengths[0] + lengths[1] - shift])

    def loss_of_rows(batch_examples: list[dict], keep: list[int]) -> torch.Tensor:
        only = [dict(e, labels=e["labels"] if i in keep else [-100] * len(e["input_ids"]))
                for i, e in enumerate(batch_examples)]  # fmt: skip
        return completion_loss(trainer.model, trainer.data_collator(only))[0]

    torch.testing.assert_close(loss_of_rows(changed, [0, 2, 3]), loss_of_rows(examples, [0, 2, 3]),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


@pytest.mark.parametrize(("window", "softcap", "matmul_up_to"), [
    (None, None, 512), (3, None, 512), (None, 2.0, 512), (None, None, 4)])
def test_packed_attention_is_each_rows_own_causal_attention(window: int | None, softcap: float | None,
                                                            matmul_up_to: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attention function alone, against a reference computed row by row (with a sliding window,
    soft-capped scores), gradients included; rows as matmuls, and longer than ``matmul_up_to`` by the
    flash kernel."""
    from types import SimpleNamespace

    from formtune import packing
    from formtune.packing import varlen_attention

    monkeypatch.setattr(packing, "MATMUL_ROWS_UP_TO", matmul_up_to)
    torch.manual_seed(0)
    lengths, heads, kv_heads, dim = [5, 7, 2], 4, 2, 8
    q = torch.randn(1, heads, sum(lengths), dim, requires_grad=True)
    k = torch.randn(1, kv_heads, sum(lengths), dim, requires_grad=True)
    v = torch.randn(1, kv_heads, sum(lengths), dim, requires_grad=True)
    cu = torch.tensor([0, *lengths]).cumsum(0).to(torch.int32)
    out, _ = varlen_attention(SimpleNamespace(training=False), q, k, v, None, scaling=0.3, cu_seq_lens_q=cu,
                              sliding_window=window, softcap=softcap)  # fmt: skip
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), (q, k, v))
    reference = torch.zeros_like(out)
    for s, e in zip(cu[:-1].tolist(), cu[1:].tolist(), strict=True):
        n = e - s
        i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
        allowed = (j <= i) & ((i - j < window) if window else True)
        scores = (q[0, :, s:e] @ k[0, :, s:e].repeat_interleave(2, 0).transpose(1, 2)) * 0.3
        scores = torch.tanh(scores / softcap) * softcap if softcap else scores
        expected = scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ v[0, :, s:e].repeat_interleave(2, 0)
        torch.testing.assert_close(out[0, s:e].transpose(0, 1), expected)
        reference = reference.index_copy(1, torch.arange(s, e), expected.transpose(0, 1)[None])
    expected_grads = torch.autograd.grad((reference * weights).sum(), (q, k, v))
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad)


def test_packed_row_lengths_are_read_once_per_batch_and_never_from_an_older_one() -> None:
    from formtune.packing import _row_lengths

    first = torch.tensor([0, 5, 12, 14], dtype=torch.int32)
    assert _row_lengths(first) == [5, 7, 2]
    assert _row_lengths(first) is _row_lengths(first)  # every layer of a forward: read once
    assert _row_lengths(torch.tensor([0, 5, 12, 14], dtype=torch.int32)) == [5, 7, 2]
    assert _row_lengths(torch.tensor([0, 3, 14], dtype=torch.int32)) == [3, 11]  # a new batch: its own


def test_token_accuracy_is_logged_for_the_mode_the_model_is_in(tiny_model: Path, tmp_path: Path) -> None:
    trainer, tokenizer = _trainer(tiny_model, tmp_path, packing=False)
    right = total = 0
    for row in _rows():  # the reference: each answer token's argmax, row by row through the full forward
        ids = torch.tensor([_full_ids(tokenizer, row)])
        start = _answer_start(tokenizer, row)
        predicted = trainer.model(input_ids=ids).logits[0, start - 1 : -1].argmax(-1)
        right, total = right + int((predicted == ids[0, start:]).sum()), total + ids.shape[1] - start
    trainer.compute_loss(trainer.model, _batch(trainer))
    assert trainer._metrics["train"]["mean_token_accuracy"] == [pytest.approx(right / total)]
    assert 0 < right < total  # the LoRA weights were moved off zero: neither all right nor all wrong
    trainer.model.eval()
    trainer.compute_loss(trainer.model, _batch(trainer))
    assert trainer._metrics["eval"]["mean_token_accuracy"] == [pytest.approx(right / total)]


def test_a_model_that_transforms_its_logits_goes_through_trls_own_loss(tiny_model: Path, tmp_path: Path) -> None:
    from formtune.loss import causal_lm, plain_head

    trainer, _ = _trainer(tiny_model, tmp_path, packing=False)
    config = causal_lm(trainer.model).config
    config.logit_scale = 1.0  # the identity: still a plain head
    assert plain_head(trainer.model)
    trainer.compute_loss(trainer.model, _batch(trainer))
    assert not trainer._metrics["train"]["entropy"]  # formtune's path: TRL's extra metrics are not computed
    config.final_logit_softcapping = 30.0  # as Gemma 2 has: the head is no longer a plain matmul
    assert not plain_head(trainer.model)
    loss = trainer.compute_loss(trainer.model, _batch(trainer))
    assert trainer._metrics["train"]["entropy"] and torch.isfinite(loss)  # TRL's own compute_loss ran
    loss, outputs = trainer.compute_loss(trainer.model, _batch(trainer), return_outputs=True)
    assert outputs.logits.shape[-1] == causal_lm(trainer.model).config.vocab_size


def test_one_labelled_token_is_scored_alone(tiny_model: Path, tmp_path: Path) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path, packing=False)
    batch = _batch(trainer)
    logits = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labelled = (batch["labels"][:, 1:] != -100) & (logits[:, :-1].argmax(-1) == batch["labels"][:, 1:])
    row, position = (int(i) for i in labelled.nonzero()[0])  # an answer token the model gets right
    position += 1
    labels = torch.full_like(batch["labels"], -100)
    labels[row, position] = batch["labels"][row, position]
    expected = F.cross_entropy(logits[row, position - 1:position].float(), labels[row, position:position + 1])
    loss = trainer.compute_loss(trainer.model, {**batch, "labels": labels})
    torch.testing.assert_close(loss, expected, rtol=1e-4, atol=1e-5)
    assert trainer._metrics["train"]["mean_token_accuracy"] == [1.0]


def test_the_fallback_path_keeps_trls_outputs_and_normalisation(tiny_model: Path, tmp_path: Path) -> None:
    from formtune.loss import causal_lm

    trainer, _ = _trainer(tiny_model, tmp_path, packing=False)
    batch = _batch(trainer)
    loss, outputs = trainer.compute_loss(trainer.model, dict(batch), return_outputs=True)  # a plain head too
    assert outputs.logits.shape[:2] == batch["input_ids"].shape
    causal_lm(trainer.model).config.final_logit_softcapping = 30.0
    n = int((batch["labels"][:, 1:] != -100).sum())
    mean = trainer.compute_loss(trainer.model, dict(batch))
    halved = trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=torch.tensor(2 * n))
    torch.testing.assert_close(halved, mean / 2, rtol=1e-4, atol=1e-5)


def test_the_rows_through_the_head_come_in_a_few_sizes(tiny_model: Path, tmp_path: Path) -> None:
    """oneDNN compiles a kernel per matmul shape: the head sees its row count rounded up, with
    filler rows that no loss or accuracy counts (the tests above check the values)."""
    from formtune.loss import HEAD_ROWS_MULTIPLE, causal_lm

    trainer, _ = _trainer(tiny_model, tmp_path, packing=True)
    batch = _batch(trainer)
    seen = []
    head = causal_lm(trainer.model).get_output_embeddings()
    handle = head.register_forward_pre_hook(lambda _module, args: seen.append(args[0].shape[0]))
    try:
        labelled = (batch["labels"] != -100).nonzero()
        for keep in (1, 2, len(labelled)):
            labels = torch.full_like(batch["labels"], -100)
            labels[tuple(labelled[:keep].T)] = batch["labels"][tuple(labelled[:keep].T)]
            trainer.compute_loss(trainer.model, {**batch, "labels": labels})
    finally:
        handle.remove()
    assert len(labelled) > HEAD_ROWS_MULTIPLE // 2  # the third size is not the first
    assert all(rows % HEAD_ROWS_MULTIPLE == 0 for rows in seen) and seen[0] == seen[1]
    assert trainer._metrics["train"]["mean_token_accuracy"][0] in (0.0, 1.0)  # one real row, not 1/32
