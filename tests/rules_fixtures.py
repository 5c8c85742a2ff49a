"""A small rule task for the rules plugin's tests: written into a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["route", "priority", "reply"],
          "properties": {"route": {"enum": ["auto", "manager"]}, "priority": {"enum": ["normal", "high"]},
                         "reply": {"type": "string"}}}

RULES = """
rules:
  facts:
    amount: {type: number, min: 0, max: 100, step: 0.01}
    vip: {type: boolean}
    today: {type: date, min: 2025-01-01, max: 2025-12-31}
    ordered: {type: date, relative_to: today, min: -20, max: 0}
  rules:
    - id: big
      when: amount > 50
      then: {route: manager}
    - id: stale
      when: today - ordered >= 10
      then: {priority: high, route: auto}
    - id: vip
      when: vip
      then: {priority: high}
  default: {route: auto, priority: normal}
  style:
    - {id: polite, field: /reply, required: [thanks], length: {max: 60}}
    - {id: no-emoji, field: /reply, emoji: false}
  fields:
    reply: {text: "Thanks, routed to {{ answer.route }}."}
"""

TASK = """name: tiny-rules
format: json
schema: schema.json
validators: [json-schema, rules]
instructions: Route the order.
templates:
  - {name: plain, text: "Order of {{ facts.amount }} EUR{{ ' from a VIP' if facts.vip else '' }}, placed {{ (facts.today - facts.ordered).days }} days ago (today {{ facts.today }})."}
  - {name: other, text: "{{ (facts.today - facts.ordered).days }} days since the order; amount {{ facts.amount }}; vip: {{ facts.vip }}; today {{ facts.today }}"}
data: {generator: rules, train: 60, eval: 24, holdout_templates: [other]}
"""


def write_task(folder: Path, rules: str = RULES, task: str = TASK) -> Path:
    (folder / "schema.json").write_text(json.dumps(SCHEMA))
    path = folder / "task.yaml"
    path.write_text(task + rules)
    return path
