"""The core seams the rules plugin came in through: validators that ask for the example's input and
provenance get them (the others never see them), and per-task metrics come from the registry."""

from __future__ import annotations

import json

from formtune.check import check
from formtune.plugins import build_registry
from formtune.task import Task, load_task
from rules_fixtures import write_task


class Seen:
    formats = ()

    def __init__(self, name, with_context):
        self.name, self.calls = name, []
        if with_context:
            self.validate = self._with_context

    def validate(self, value, task):
        self.calls.append(())
        return []

    def _with_context(self, value, task, input=None, meta=None):
        self.calls.append((input, meta))
        return []


def test_only_validators_that_name_input_and_meta_receive_them(tmp_path, monkeypatch):
    task = load_task(write_task(tmp_path))
    plain, aware = Seen("plain", False), Seen("aware", True)
    monkeypatch.setattr(Task, "validators", [plain, aware])
    check(json.dumps({"route": "auto"}), task, input="the text", meta={"facts": {"a": 1}})
    assert plain.calls == [()] and aware.calls == [("the text", {"facts": {"a": 1}})]
    check(json.dumps({"route": "auto"}), task)  # no provenance: an empty one, never None
    assert aware.calls[-1] == (None, {})


def test_task_metrics_exist_only_for_tasks_with_rules(tmp_path):
    registry = build_registry()
    with_rules = load_task(write_task(tmp_path), registry)
    (tmp_path / "plain").mkdir()
    plain_task = write_task(tmp_path / "plain", rules="")
    text = plain_task.read_text().replace("validators: [json-schema, rules]\n", "").replace("generator: rules, ", "")
    plain_task.write_text(text)
    assert "rules:adherence" in registry.task_metrics(with_rules)
    assert registry.task_metrics(load_task(plain_task, registry)) == {}
