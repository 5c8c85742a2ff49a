"""Batched generation: same greedy text as one at a time, early stop only for hopeless rows, a
second decoding with more room for rows cut short, constraint indexes cached on disk, JSON
constraint guards."""

from __future__ import annotations

import json

import pytest

from formtune.conversation import chat_messages
from formtune.generation import build_constraint, generate
from formtune.models import load_model
from formtune_json.constraint import EMAIL_PATTERN, STRING_CAP, guarded_schema
from formtune_json.format import JsonFormat

VIABLE = JsonFormat().viable


@pytest.mark.parametrize("text", ["", "  {", '{"a": 1', '{"a": 1}', '[1, 2] ', "tr", "nul", "-1", '"abc'])
def test_json_prefixes_that_can_still_become_one_document(text):
    assert VIABLE(text)


@pytest.mark.parametrize("text", ["Sure! {", "```json\n{", '{"a": 1} thanks', "nope", "truth", "[1] [2]"])
def test_json_prefixes_that_cannot(text):
    assert not VIABLE(text)


def test_guards_bound_strings_emails_and_small_integer_ranges():
    schema = {"type": "object", "properties": {
        "name": {"type": "string"}, "mail": {"type": "string", "format": "email"},
        "code": {"type": "string", "pattern": "^[A-Z]+$"}, "qty": {"type": "integer", "minimum": 1, "maximum": 9},
        "price": {"type": "number", "maximum": 1000},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": True}}}
    guarded, notes = guarded_schema(schema)
    props = guarded["properties"]
    assert props["name"]["maxLength"] == STRING_CAP and props["code"] == schema["properties"]["code"]
    assert props["mail"] == {"type": "string", "pattern": EMAIL_PATTERN}
    assert props["qty"]["enum"] == list(range(1, 10))
    assert "maxLength" not in schema["properties"]["name"]  # the task's own schema is untouched
    assert len(notes) == 5 and any("/properties/price: numeric bounds" in n for n in notes)
    assert "/properties/tags: uniqueItems not enforced while decoding (the validator checks it)" in notes


@pytest.fixture(scope="module")
def model_and_tokenizer(tiny_model):
    """The tiny random model with louder weights, so that greedy decoding writes varied text
    (as initialised it repeats one newline, which would make every comparison vacuous)."""
    import torch

    model, tokenizer = load_model(str(tiny_model), for_training=False, dtype="float32")
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.5)
    return model, tokenizer


CONVERSATIONS = [{"messages": chat_messages("Extract the person as JSON.", text)} for text in
                 ["I'm Ada", "Hello, I'm Grace Hopper. Mail: grace@example.com", "Bo", "system user assistant x"]]


def test_batched_generation_equals_one_at_a_time(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    batched = generate(model, tokenizer, CONVERSATIONS, max_new_tokens=12, batch_size=4)
    single = [generate(model, tokenizer, [c], max_new_tokens=12, batch_size=1)[0] for c in CONVERSATIONS]
    assert [b["completion"] for b in batched] == [s["completion"] for s in single]
    assert sum(bool(b["completion"]) for b in batched) >= 2  # the comparison is not vacuous


def test_early_stop_only_cuts_rows_that_cannot_become_valid(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    full = generate(model, tokenizer, CONVERSATIONS, max_new_tokens=24, batch_size=4)
    cut = generate(model, tokenizer, CONVERSATIONS, max_new_tokens=24, batch_size=4, viable=VIABLE)
    for f, c in zip(full, cut):
        assert f["completion"].startswith(c["completion"])
        if c["completion"] != f["completion"]:
            assert c["hopeless"] and not VIABLE(f["completion"])
    assert any(len(c["completion"]) < len(f["completion"]) for f, c in zip(full, cut))  # not vacuous


def test_a_row_that_runs_out_of_room_is_decoded_once_more_with_the_retry_room(model_and_tokenizer, monkeypatch):
    import formtune.generation as generation

    model, tokenizer = model_and_tokenizer
    decode, calls = generation._decode_batch, []

    def spy(model, tokenizer, prompts, room, *args):
        texts, latency = decode(model, tokenizer, prompts, room, *args)
        calls.append((room, [cut for _, cut in texts]))
        return texts, latency

    monkeypatch.setattr(generation, "_decode_batch", spy)
    short = generate(model, tokenizer, CONVERSATIONS, max_new_tokens=4, batch_size=4, retry_room=8)
    (room, cuts), (again, still_cut) = calls
    assert room == 4 and again == 8 and 1 <= len(still_cut) == sum(cuts)  # only the rows cut short, once
    calls.clear()
    assert [o["completion"] for o in generate(model, tokenizer, CONVERSATIONS, max_new_tokens=4, batch_size=4)] != [
        o["completion"] for o in short] and [room for room, _ in calls] == [4]  # no retry unless asked
    roomy = generate(model, tokenizer, CONVERSATIONS, max_new_tokens=8, batch_size=4, retry_room=16)
    for s, r in zip(short, roomy):
        if s["cut"]:  # out of room at 8 tokens too: the roomy call retried it with 16
            assert r["completion"].startswith(s["completion"]) and r["completion"] != s["completion"]
        else:  # it ended within the 8 tokens of its second decoding: the text of a call with 8
            assert s["completion"] == r["completion"]


def test_constraint_indexes_are_cached_on_disk(model_and_tokenizer, tmp_path, monkeypatch):
    from outlines.types import JsonSchema

    monkeypatch.setenv("FORMTUNE_CACHE", str(tmp_path))
    model, tokenizer = model_and_tokenizer
    schema = JsonSchema({"type": "object", "properties": {"n": {"enum": ["Ada", "Bo"]}}, "required": ["n"]})
    first = build_constraint(model, tokenizer, schema)
    again = build_constraint(model, tokenizer, schema)
    assert (first.cached, again.cached) == (False, True)
    assert len(list((tmp_path / "constraints").glob("*.pickle"))) == 1
    [out] = generate(model, tokenizer, CONVERSATIONS[:1], max_new_tokens=20, batch_size=1, constraint=again)
    assert json.loads(out["completion"]) in ({"n": "Ada"}, {"n": "Bo"})
    assert again.tokens > 0 and again.ms_per_token > 0


def test_the_head_never_multiplies_a_batch_expanded_copy_of_its_weight(model_and_tokenizer):
    """At the prompt's pass the head sees the last position only, a non-contiguous view; with
    frozen weights (a tuned model's base) torch.matmul then copies the head's weight once per row
    (0.9 GB a batch for the default model). The profiler shows every tensor an operation reads;
    none may be that copy."""
    import torch

    model, tokenizer = model_and_tokenizer
    head = model.get_output_embeddings().weight
    rows = len(CONVERSATIONS)
    trainable = [p for p in model.parameters() if p.requires_grad]
    try:
        for parameter in trainable:
            parameter.requires_grad_(False)
        with torch.profiler.profile(record_shapes=True) as profile:
            generate(model, tokenizer, CONVERSATIONS, max_new_tokens=4, batch_size=rows)
    finally:
        for parameter in trainable:
            parameter.requires_grad_(True)
    shapes = [shape for event in profile.events() for shape in event.input_shapes]
    assert [rows, head.shape[1]] in shapes  # the prompt pass's head input, folded to one matrix
    assert [rows, head.shape[1], head.shape[0]] not in shapes
