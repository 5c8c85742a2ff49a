"""Writing the user's side of a conversation: requests that ask for calls, and final answers.

A task's own templates write requests (Jinja2, as for every format): a template gets ``output``
= ``{"calls": [...]}``, each call ``{"name", "arguments", "tool"}`` (``tool`` is the definition),
and phrases each call its own way (a macro per tool, with ``pick`` and ``chance`` for varied
wording, argument order and value spelling). Held-out templates write the evaluation requests.

Without templates, :func:`generic_request` phrases a call from the tool's description and its
argument names: stiffer, but it works for any tool set (general tool-calling data).
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

_OPENERS = ["", "Hi! ", "Hello, ", "Hey. ", "Quick request: ", "Good morning. ", "Hi there, "]
_ASKS = ["Can you {0}?", "Please {0}.", "I need you to {0}.", "Could you {0}?", "I'd like to {0}.",
         "{0}, please.", "Would you {0}?", "Help me {0}."]
_ARGS = ["{label} {value}", "{label}: {value}", "{label} is {value}", "with {label} {value}",
         "{label} = {value}", "using {value} as {label}"]
_JOINS = [" Also: ", " And: ", " Then: ", " Next: ", " Plus: ", " "]
_LEADS = ["Here is what I found: ", "Done. ", "All set: ", "I checked that for you. ", "Result: ", ""]


def humanize(name: str) -> str:
    """``orderId`` / ``order_id`` → ``order id``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace(".", " ").strip().lower()


def _intent(tool: dict[str, Any]) -> str:
    """The tool's description as an imperative clause: its first sentence, lower-cased, with a
    leading third-person verb made imperative ("Gets the weather" → "get the weather")."""
    text = (tool.get("description") or "").strip()
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".!? ")
    if not sentence:
        return f"use {humanize(tool['name'])}"
    first, _, rest = sentence.partition(" ")
    return " ".join(w for w in (_imperative(first.lower()), rest) if w)


def _imperative(verb: str) -> str:
    if re.search(r"(ch|sh|x|ss)es$", verb):
        return verb[:-2]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith("s") and not verb.endswith(("ss", "us", "is")) and len(verb) > 3:
        return verb[:-1]
    return verb


def spell(value: Any) -> str:
    """A value as a person would write it in a request (strings bare, lists joined)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [spell(v) for v in value]
        return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
    if isinstance(value, dict):
        return ", ".join(f"{humanize(k)} {spell(v)}" for k, v in value.items())
    return json.dumps(value)


def generic_request(calls: list[dict[str, Any]], rng: random.Random) -> str:
    """A request for ``calls`` from the tools' descriptions, arguments in shuffled order."""
    parts = []
    for call in calls:
        arguments = list(call["arguments"].items())
        rng.shuffle(arguments)
        said = [rng.choice(_ARGS).format(label=humanize(k), value=spell(v)) for k, v in arguments]
        clause = _intent(call["tool"]) + (rng.choice([": ", " - ", ", "]) + ", ".join(said) if said else "")
        ask = rng.choice(_ASKS).format(clause)
        parts.append(ask[0].upper() + ask[1:])
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(_JOINS) + part
    return rng.choice(_OPENERS) + text


def generic_answer(results: list[Any], rng: random.Random) -> str:
    """A final answer that reports the tool results' values (at most six)."""
    facts = []
    for result in results:
        for key, value in result_scalars(result, items=3):
            facts.append(f"{humanize(key)}: {spell(value)}" if key else spell(value))
    return (rng.choice(_LEADS) + "; ".join(facts[:6]) + ".") if facts else rng.choice(["Done.", "All done.", "That's done."])


def result_scalars(value: Any, key: str = "", items: int | None = None) -> list[tuple[str, Any]]:
    """``(key, value)`` for every scalar of a tool result, under the nearest key that holds it; a
    list gives its first ``items`` entries (all of them when None)."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in result_scalars(v, k, items)]
    if isinstance(value, list):
        return [pair for v in value[:items] for pair in result_scalars(v, key, items)]
    return [(key, value)]
