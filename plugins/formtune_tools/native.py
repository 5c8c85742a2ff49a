"""The ``native`` dialect: the model's own chat template lists the tools and writes the calls.

Templates of tool-calling families (Qwen2.5, Qwen3, Hermes, Llama 3.x, Mistral-Nemo and
Mistral-Small 3.x, Granite 4 …) take the tools a conversation offers (``tools=``, TRL's ``tools``
column) and write an assistant turn's ``tool_calls`` in their own syntax. With this dialect
formtune hands both to the template instead of writing them as text:

- the dataset stores a turn's calls independently of any model, as a JSON list (the ``json-list``
  text), so one dataset trains any model of such a family;
- :meth:`ToolCallFormat.conversation <formtune_tools.format.ToolCallFormat.conversation>` turns
  those calls into ``tool_calls`` messages and the offered tools into the row's ``tools``, which
  the template renders in training and in the evaluator's prompts;
- what the model writes is read back by :class:`TemplateSyntax`, which learns the template's call
  syntax by rendering probe calls through it, and is then checked as JSON-list text.

There is no decoding constraint: the syntax is the template's, and formtune only learns it at run
time, from the model being evaluated. A template without tool support is a clear error
(:func:`formtune.chat_templates.require_tool_template`).
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from formtune.errors import ModelError
from formtune_tools.dialect import MAX_CALL_TEXT, checked_call, strict_json
from formtune_tools.jsonlist import JsonListDialect
from formtune_tools.value import Call

_PROBE_NAME = "formtune_probe"
_PROBE_CALLS = [{"name": _PROBE_NAME, "arguments": {"n": 1}}, {"name": _PROBE_NAME, "arguments": {"n": 2}}]
_PROBE_TOOL = {"name": _PROBE_NAME, "description": "A probe.",
               "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}
_PROBE_ANSWER = "formtune_plain_answer"
#: The ids :func:`tool_calls` gives the probe calls, where a template copies them into its markup.
_PROBE_ID = re.compile(r"call\d{5}")
#: A tool's name written before its arguments object: the characters tool names may have
#: (:data:`formtune_tools.toolset.NAME`).
_NAME = r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)"


class NativeDialect(JsonListDialect):
    """Calls stored as a JSON list; the template writes them its own way (see the module docstring)."""

    name = "native"
    description = "the model's own chat template lists the tools and writes the calls (Qwen, Llama 3.1, …)"
    rules = ""  # the template tells the model how to call
    #: The format hands tools and calls to the chat template (``tools`` column, ``tool_calls``).
    native = True

    def describe_tools(self, tools: list[dict[str, Any]], listing: str = "json") -> str:
        return ""  # the template lists them

    def pattern(self, tools: list[dict[str, Any]], answer: str, most: int) -> str | None:
        return None

    def viable(self, text: str) -> bool:
        return True  # the model writes the template's syntax, which formtune does not know in advance


def is_native(dialect: Any) -> bool:
    """Whether ``dialect`` leaves writing calls to the model's chat template (``native = True``)."""
    return bool(getattr(dialect, "native", False))


def openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool of the task's tool set as an OpenAI function definition, as chat templates take it."""
    return {"type": "function", "function": {"name": tool["name"], "description": tool.get("description", ""),
                                             "parameters": tool["parameters"]}}


def tool_calls(calls: list[Call]) -> list[dict[str, Any]]:
    """Calls as an assistant message's ``tool_calls``, numbered ``call00001`` …: some templates
    require ids (Mistral's, of nine letters and digits) to pair each result with its call."""
    return [{"type": "function", "id": call_id(i), "function": {"name": c["name"], "arguments": c["arguments"]}}
            for i, c in enumerate(calls)]


def call_id(index: int) -> str:
    """The id of the ``index``-th call of a turn (see :func:`tool_calls`)."""
    return f"call{index + 1:05d}"


class TemplateSyntax:
    """How one chat template writes an assistant turn's tool calls, learned by rendering probe
    calls through it: the text before the calls, between two calls and after them, and how each
    call is written: either as a JSON object holding the tool's name and its arguments (an object,
    or an object written as a JSON string) under keys learned from the template, as the
    tool-calling templates of Qwen2.5 and Qwen3, Hermes, Llama 3.x, Mistral-Nemo and Granite 4 do;
    or as the tool's name, some markup and the arguments object, as Mistral-Small 3.x, Devstral
    and Ministral 3 do (``[TOOL_CALLS]name[ARGS]{…}``). ``benchmarks/native_templates.py`` checks
    real templates and names the others."""

    def __init__(self, tokenizer: Any, where: object = "the model") -> None:
        from formtune.chat_templates import require_tool_template

        try:
            require_tool_template(tokenizer, where)
        except ModelError as exc:
            raise ModelError(f"{exc}, or pick a text dialect (tools.dialect: hermes, json-list or python)") from None
        self._tokenizer, self._where = tokenizer, where
        one = self._turn(_PROBE_CALLS[:1])
        try:
            two: str | None = self._turn(_PROBE_CALLS)
        except ModelError:  # Llama 3.1's template refuses two calls in one turn
            two = None
        found_one, found_two = _probe_calls(one), _probe_calls(two or "")
        if len(found_one) != 1 or two is not None and len(found_two) != 2:
            raise self._cannot_learn()
        first = found_one[0]
        #: The keys of a call object; None when the template writes the name before the arguments.
        self.name_key, self.arguments_key = first.name_key, first.arguments_key
        self.opens_with = one[:first.start].strip()  # "" when a turn is bare JSON
        self.opening, self.closing = _loose(one[:first.start]), _loose(one[first.end:])
        #: Where a call starts: at its JSON object, or at its tool's name (group ``name``) and the
        #: markup between the name and the arguments object.
        self.head = re.compile(r"\s*" + ("" if first.naming is None else _NAME + _loose(first.naming).pattern)
                               + r"(?=\{)")
        #: What separates two calls; None when the template writes one call per turn.
        self.between = _loose(two[found_two[0].end:found_two[1].start]) if two is not None else None
        # What the probes learned from must read back: a template that writes each call of a turn
        # differently (Kimi-K2's numbers them) is not one this reader knows.
        if not self._reads_back(one, _PROBE_CALLS[:1]) or two is not None and not self._reads_back(two, _PROBE_CALLS):
            raise self._cannot_learn()

    def _cannot_learn(self) -> ModelError:
        return ModelError(f"cannot learn how the chat template of {self._where} writes tool calls (formtune reads "
                          "calls written as JSON objects, or as a tool name before a JSON object of arguments, alike "
                          "for every call of a turn); pick a text dialect (tools.dialect: hermes, json-list or python)")

    def _reads_back(self, text: str, calls: list[Call]) -> bool:
        try:
            return self.read(text) == calls
        except ValueError:
            return False

    def _turn(self, calls: list[Call]) -> str:
        """The text the template writes for an assistant turn of ``calls``, without the end of turn."""
        tools = [openai_tool(_PROBE_TOOL)]
        user = [{"role": "user", "content": "Hi"}]
        prompt = self._render(user, tools, add_generation_prompt=True)
        turn = self._render([*user, {"role": "assistant", "content": "", "tool_calls": tool_calls(calls)}], tools)
        plain = self._render([*user, {"role": "assistant", "content": _PROBE_ANSWER}], tools)
        if not (turn.startswith(prompt) and plain.startswith(prompt) and _PROBE_ANSWER in plain):
            raise ModelError(f"the chat template of {self._where} writes the prompt differently once an answer "
                             "follows, so formtune cannot tell what the model writes; pick a text dialect")
        end_of_turn = plain[plain.rindex(_PROBE_ANSWER) + len(_PROBE_ANSWER):]
        turn = turn[len(prompt):]
        return turn[: len(turn) - len(end_of_turn)] if end_of_turn and turn.endswith(end_of_turn) else turn

    def _render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **kwargs: Any) -> str:
        try:
            return self._tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, **kwargs)
        except Exception as exc:  # a template raises on what it does not support
            raise ModelError(f"the chat template of {self._where} fails on tool calls: {exc}") from exc

    def read(self, text: str) -> list[Call] | None:
        """The calls of a completion in the template's syntax, ``None`` for a plain answer;
        ``ValueError`` for a call that is broken."""
        if len(text) > MAX_CALL_TEXT:
            raise ValueError(f"a call text of {len(text)} characters is too long")
        opened = self.opening.match(text)
        if opened is None or not self.opens_with and not text.lstrip().startswith("{"):
            return None
        calls: list[Call] = []
        position = opened.end()
        decoder = json.JSONDecoder()
        while True:
            where = f"call {len(calls) + 1}"
            head = self.head.match(text, position)
            if head is None:
                raise ValueError(f"{where}: no call at character {position}: {text[position:position + 30]!r}")
            position = head.end()
            try:
                _, end = decoder.raw_decode(text, position)
            except (ValueError, RecursionError):  # RecursionError: nested too deeply to be a call
                raise ValueError(f"{where}: no JSON object at character {position}: "
                                 f"{text[position:position + 30]!r}") from None
            calls.append(self._call(strict_json(text[position:end], where), head.groupdict().get("name"), where))
            closed = self.closing.fullmatch(text, end)
            if closed is not None:
                return calls
            following = None if self.between is None else self.between.match(text, end)
            if following is None or self.head.match(text, following.end()) is None:
                raise ValueError(f"unexpected text after {where}: {text[end:end + 30]!r}")
            position = following.end()

    def _call(self, obj: Any, name: str | None, where: str) -> Call:
        if name is not None:  # the name stood before the object, which holds the arguments
            return checked_call({"name": name, "arguments": obj}, where)
        if not isinstance(obj, dict) or self.name_key not in obj or self.arguments_key not in obj:
            raise ValueError(f"{where}: a call is an object with the keys {self.name_key!r} and {self.arguments_key!r}")
        arguments = obj[self.arguments_key]
        if isinstance(arguments, str):  # templates that write OpenAI's arguments string
            arguments = strict_json(arguments, where)
        return checked_call({"name": obj[self.name_key], "arguments": arguments}, where)


class _Probe(NamedTuple):
    """A probe call found in a rendered turn: where it starts (its object, or its tool's name) and
    ends, and the keys of its call object or else the text between its name and its arguments."""

    start: int
    end: int
    name_key: str | None
    arguments_key: str | None
    naming: str | None


def _probe_calls(text: str) -> list[_Probe]:
    """Each probe call in ``text``, in order: a call object, or an arguments object with the
    probe's name before it (and after the call before)."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while (start := text.find("{", position)) != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        keys = _call_keys(obj)
        named = text.rfind(_PROBE_NAME, found[-1].end if found else 0, start)
        if keys is not None:
            found.append(_Probe(start, end, *keys, None))
        elif obj in [c["arguments"] for c in _PROBE_CALLS] and named != -1:
            found.append(_Probe(named, end, None, None, text[named + len(_PROBE_NAME):start]))
        else:
            position = start + 1  # a wrapper object: the call may be inside it
            continue
        position = end
    return found


def _call_keys(obj: Any) -> tuple[str, str] | None:
    if not isinstance(obj, dict):
        return None
    name = next((k for k, v in obj.items() if v == _PROBE_NAME), None)
    arguments = next((k for k, v in obj.items() if _as_object(v) in [c["arguments"] for c in _PROBE_CALLS]), None)
    return None if name is None or arguments is None else (name, arguments)


def _as_object(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _loose(piece: str) -> re.Pattern[str]:
    """``piece`` as a pattern that takes any run of whitespace (or none) around and between its
    characters: models vary the line breaks a template writes (``</tool_call>\\n<tool_call>`` or
    ``</tool_call><tool_call>``), and the pieces are short markup that stays unambiguous. A probe
    call's id in ``piece`` (Mistral-Small's ``[CALL_ID]call00001[ARGS]``) stands for any id: a
    model makes up its own."""
    parts = ("".join(re.escape(c) + r"\s*" for c in part if not c.isspace()) for part in _PROBE_ID.split(piece))
    return re.compile(r"\s*" + r"[\w-]+\s*".join(parts))
