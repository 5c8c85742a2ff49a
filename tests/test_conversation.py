"""Conversations: single-turn text inputs and multi-turn message inputs take the same path."""

from __future__ import annotations

import json
from pathlib import Path

from formtune.conversation import chat_messages, input_key
from formtune.evaluate import EvalExample, load_examples
from formtune.task import load_task

DATA = Path(__file__).parent / "data"
TURNS = [{"role": "user", "content": "weather in Oslo?"},
         {"role": "assistant", "content": '{"call": "weather"}'},
         {"role": "tool", "content": "12 C"}]


def test_text_and_message_inputs():
    assert chat_messages("sys", "hi", "out") == [{"role": "system", "content": "sys"},
                                                 {"role": "user", "content": "hi"},
                                                 {"role": "assistant", "content": "out"}]
    assert chat_messages("sys", TURNS) == [{"role": "system", "content": "sys"}, *TURNS]


def test_input_key_ignores_case_and_spacing_only():
    assert input_key("Hello  World\n") == input_key("hello world")
    assert input_key("hello world") != input_key("hello, world")
    assert input_key(TURNS) == input_key([dict(t) for t in TURNS]) != input_key(TURNS[:1])


def test_multi_turn_chat_rows_keep_their_turns(tmp_path):
    task = load_task(DATA / "person.task.yaml")
    path = tmp_path / "gold.jsonl"
    answer = {"name": "Ada", "email": "ada@example.org"}
    path.write_text(json.dumps({"messages": [{"role": "system", "content": "x"}, *TURNS,
                                             {"role": "assistant", "content": json.dumps(answer)}]}) + "\n")
    assert load_examples(path, task) == [EvalExample(TURNS, answer)]
