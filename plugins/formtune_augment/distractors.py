"""Look-alike values that are not the answer, and absent fields mentioned by name.

A model that sees an identifier-shaped string near the word "order" learns to copy it into
``order_id``; a model that never saw a message without an order number learns to invent one.
This augmenter adds one or two sentences a careful reader would not take for the answer:

- values of other systems, each labelled as what it is: a phone number, a ticket or parcel
  reference, a second date ("I first wrote on 3 May"), a time;
- for an optional field that the answer leaves out (read from the task's JSON Schema; not one
  inside an array, nor one whose name another field of the answer shares), a remark that it is
  missing ("I don't have the order number to hand"); for an identifier (a string with
  a ``pattern``), sometimes next to a code the message already holds for another field ("only
  the code ABC-1234").
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from formtune.formatters import Formatters
from formtune.layouts import SchemaView, absent_fields, labels
from formtune_augment.spots import insert_sentence, phone, reference
from formtune_augment.wrappers import some_date

OTHER_VALUES = (
    "You can also reach me on {phone}.", "My number is {phone} if that is easier.", "(tel. {phone})",
    "I already opened a ticket about this ({ref}).", "Your colleague gave me the reference {ref}.",
    "The courier's tracking number is {ref}.", "I first wrote to you on {date}.", "I called on {date} as well.",
    "Please reply before {time}.", "I'm away from {date}.", "Our internal reference is {ref}.",
)
ABSENT = (
    "I don't have the {label} to hand.", "No {label}, sorry.", "Not sure what the {label} is.",
    "I can't find the {label}.", "{Label}: don't know.", "I have no {label} for this.",
)
ABSENT_NEXT_TO = (
    "I don't have the {label}, only the {other_label} {other}.", "No {label} - all I have is {other}.",
    "The {label}? Not sure, the only code I have is {other}.",
)


class Distractors:
    name = "distractors"
    description = "look-alike values that are not the answer (phone numbers, references, second dates) and " \
                  "absent optional fields mentioned by name"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        sentences = [self._other_value(rng)]
        absent = absent_fields(output, SchemaView(task.schema)) if isinstance(task.schema, dict) else []
        names = _names(output)
        absent = [a for a in absent if (a.schema.get("type") in ("string", "integer", "number") or "enum" in a.schema)
                  and not any(part.isdigit() for part in a.pointer.split("/")) and a.name not in names]
        if absent and rng.random() < 0.6:
            sentences.append(self._absent(rng.choice(absent), keep, rng))
        rng.shuffle(sentences)
        for sentence in sentences[:rng.choice([1, len(sentences)])]:
            text = insert_sentence(text, sentence, keep, rng)
        return text

    @staticmethod
    def _other_value(rng: random.Random) -> str:
        time = f"{rng.randint(8, 17)}:{rng.choice(['00', '15', '30', '45'])}"
        return rng.choice(OTHER_VALUES).format(phone=phone(rng), ref=reference(rng), time=time,
                                               date=Formatters(rng).date(some_date(rng)))

    @staticmethod
    def _absent(field: Any, keep: Sequence[str], rng: random.Random) -> str:
        label = rng.choice(labels(field.name, field.schema)[:2] + labels(field.name, field.schema)).lower()
        codes = [v for v in keep if any(c.isdigit() for c in v) and any(c.isalpha() for c in v) and "@" not in v]
        if "pattern" in field.schema and codes and rng.random() < 0.5:  # an identifier: show another one
            other = rng.choice(codes)
            return rng.choice(ABSENT_NEXT_TO).format(label=label, other_label=rng.choice(["code", "reference", "item"]),
                                                     other=other)
        return rng.choice(ABSENT).format(label=label, Label=label.capitalize())


def _names(value: Any) -> set[str]:
    """Every property name used in ``value``: an absent field that shares one with a present field
    ("diet" of a guest, "diet" of the attendee) cannot be called absent without ambiguity."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
