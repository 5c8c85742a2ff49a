"""The ``tool-calls`` generator: conversations in six categories, built from the task's tools.

Each draft is one conversation up to the turn the model must write, and what it must write:

- ``simple``: one tool offered, one call to it;
- ``multiple``: the right tool among several, one call;
- ``parallel``: several calls of one tool in one turn;
- ``parallel_multiple``: several calls of several tools in one turn;
- ``irrelevance``: no offered tool fits (the right one is missing, or the request is off-topic):
  the model answers without calling. With ``tools.contrast``, a share of the training ones are
  twins of a nearby simple or multiple turn: the same conversation with the called tool taken out
  of the offer, so that the same request is seen both ways;
- ``multi_turn``: calls were made and their results are in: the model answers from them, or the
  user asks for more and the model makes the next call.

Arguments come from the schema sampler (valid by construction), tool results from the tool's
output schema when it has one. ``tools.optional`` sets how often a training call states each
optional argument (the held-out split keeps the sampler's default, so it measures the task as
is). With ``tools.general``, a share of the *training* conversations is built the same way from
other tools (general tool-calling practice, so that the skill carries over to tools never seen);
evaluation stays on the task's own tools. Requests are written by the task's templates (held-out
ones for the evaluation split) or, without templates, from the tools' descriptions. The category
cycles with the index in proportion to ``tools.mix``, so every split covers every category
evenly.

The input is a message list that opens with a system message listing the offered tools (the
core joins it to the task's system prompt); that message also carries the offered definitions
under ``"tools"``, which scoring reads.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from formtune.contrib import Draft, derive_seed
from formtune_tools.dialect import describe
from formtune_tools.options import CATEGORIES
from formtune_tools.requests import generic_answer, generic_request
from formtune_tools.toolset import general_tools

if TYPE_CHECKING:
    from formtune.task import Task


def split_of(task: Task, seed: int) -> str:
    """Which split a draft is for. The dataset builder seeds each split's stream with
    ``derive_seed(data.seed, split)``; a test pins this, and the report asks the core for an
    explicit split argument."""
    return "eval" if seed == derive_seed(task.spec.data.seed, "eval") else "train"


def category_cycle(weights: dict[str, float], length: int = 60) -> list[str]:
    """A cycle of categories in proportion to ``weights``, evenly interleaved (smooth weighted
    round robin), so that any window of it is balanced."""
    total = sum(weights.values())
    current = dict.fromkeys(weights, 0.0)
    cycle = []
    for _ in range(length):
        for name in current:
            current[name] += weights[name]
        chosen = max(current, key=lambda n: (current[n], -list(weights).index(n)))
        current[chosen] -= total
        cycle.append(chosen)
    return cycle


class Conversations:
    """What one task's drafts share: tools, samplers, templates by split (built once per task)."""

    def __init__(self, task: Task, tools: list[dict[str, Any]], own_templates: bool = True) -> None:
        self.task = task
        self.options = task.options("tools")
        self.dialect = task.format.dialect
        self.tools = tools
        weights = {c: getattr(self.options.mix, c) for c in CATEGORIES if getattr(self.options.mix, c) > 0}
        if len(self.tools) < 2:  # one tool: nothing to choose among, nothing else to offer
            for category in ("multiple", "parallel_multiple", "irrelevance"):
                weights.pop(category, None)
            weights = weights or {"simple": 1.0}
        self.cycle = category_cycle(weights)
        names = list(task.templates) if own_templates else []
        holdout = set(task.spec.data.holdout_templates) - {self.options.answer_template}
        requests = [n for n in names if n != self.options.answer_template]
        self.templates = {"train": [n for n in requests if n not in holdout] or requests,
                          "eval": [n for n in requests if n in holdout] or requests}
        self._samplers: dict[tuple[str, str, float | None], Any] = {}
        self.written_by: str | None = None  # the template of the last request, for provenance

    # -- pieces -----------------------------------------------------------------------------

    def sample(self, tool: dict[str, Any], key: str, seed: int, optional: float | None = None) -> Any:
        """An instance of the tool's ``parameters`` or ``output`` schema; ``optional`` overrides the
        sampler's chance of drawing each optional property."""
        from formtune.schema.sampler import SchemaSampler

        schema = tool["parameters"] if key == "parameters" else tool.get("output")
        if schema is None:
            return {"status": "ok"}
        sampler = self._samplers.get((tool["name"], key, optional))
        if sampler is None:
            extra = {} if optional is None else {"optional": optional}
            sampler = self._samplers[(tool["name"], key, optional)] = SchemaSampler(
                schema, base_dir=self.task.base_dir, **extra)
        value = sampler.sample(seed)
        if key == "parameters":  # the schema's own order: what a constraint allows, what training shows
            order = list(schema.get("properties", {}))
            value = dict(sorted(value.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        return value

    def call(self, tool: dict[str, Any], split: str, rng: random.Random) -> dict[str, Any]:
        """A call of ``tool`` with sampled arguments (``tools.optional`` applies to training calls)."""
        optional = self.options.optional if split == "train" else None
        return {"name": tool["name"], "arguments": self.sample(tool, "parameters", rng.getrandbits(63), optional)}

    def request(self, calls: list[dict[str, Any]], split: str, rng: random.Random) -> str:
        by_name = {t["name"]: t for t in self.tools}
        context = {"calls": [{**c, "tool": by_name[c["name"]]} for c in calls]}
        if not self.templates[split]:
            self.written_by = None
            return generic_request(context["calls"], rng)
        self.written_by = rng.choice(self.templates[split])
        return self.task.templates[self.written_by].render(context, rng)

    def answer(self, calls: list[dict[str, Any]], results: list[Any], rng: random.Random) -> str:
        if self.options.answer_template:
            context = {"calls": [{**c, "result": r} for c, r in zip(calls, results)]}
            return self.task.templates[self.options.answer_template].render(context, rng)
        return generic_answer(results, rng)

    def offer(self, used: list[dict[str, Any]], rng: random.Random,
              extra: tuple[int, int] | None = None) -> list[dict[str, Any]]:
        """The used tools plus distractors, shuffled (or every tool, with ``offer: all``)."""
        if self.options.offer == "all":
            return list(self.tools)
        others = [t for t in self.tools if t not in used]
        low, high = extra or self.options.distractors
        offered = used + rng.sample(others, min(len(others), rng.randint(low, high)))
        rng.shuffle(offered)
        return offered

    def opening(self, offered: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.options.offer == "all":
            return []
        return [{"role": "system", "content": describe(self.dialect, offered, self.options.listing), "tools": offered}]

    # -- the categories ---------------------------------------------------------------------

    def draft(self, category: str, split: str, rng: random.Random) -> Draft:
        tool = rng.choice(self.tools)
        if category in ("simple", "multiple", "parallel"):
            count = rng.randint(2, self.options.max_parallel) if category == "parallel" else 1
            calls = [self.call(tool, split, rng) for _ in range(count)]
            extra = (0, 0) if category == "simple" else None
            if category == "multiple":
                extra = (max(1, self.options.distractors[0]), max(1, self.options.distractors[1]))
            offered = self.offer([tool], rng, extra)
            return self._turn(offered, self.request(calls, split, rng), {"calls": calls})
        if category == "parallel_multiple":
            chosen = rng.sample(self.tools, min(len(self.tools), rng.randint(2, 3)))
            calls = [self.call(t, split, rng) for t in chosen]
            while len(calls) < self.options.max_parallel and rng.random() < 0.3:
                calls.append(self.call(rng.choice(chosen), split, rng))
            rng.shuffle(calls)
            return self._turn(self.offer(chosen, rng), self.request(calls, split, rng), {"calls": calls})
        if category == "irrelevance":
            return self._irrelevant(tool, split, rng)
        return self._multi_turn(tool, split, rng)

    def _turn(self, offered: list[dict[str, Any]], request: str, output: dict[str, Any],
              history: list[dict[str, Any]] | None = None) -> Draft:
        messages = [*self.opening(offered), *(history or []), {"role": "user", "content": request}]
        return Draft(output=output, input=messages)

    def _irrelevant(self, tool: dict[str, Any], split: str, rng: random.Random) -> Draft:
        decline = {"answer": rng.choice(self.options.declines)}
        if self.options.offer == "all" or rng.random() < 1 / 3:
            topics = self.options.off_topic[split == "eval"::2]  # even ones train, odd ones evaluate
            self.written_by = None  # an off-topic request, no template's wording
            return self._turn(self.offer([], rng, (1, 3)), rng.choice(topics), decline)
        offered = self.offer([], rng, (1, 3))
        offered = [t for t in offered if t is not tool] or [t for t in self.tools if t is not tool][:1]
        return self._turn(offered, self.request([self.call(tool, split, rng)], split, rng), decline)

    def _multi_turn(self, tool: dict[str, Any], split: str, rng: random.Random) -> Draft:
        calls = [self.call(tool, split, rng) for _ in range(rng.choice([1, 1, 2]))]
        results = [self.sample(tool, "output", rng.getrandbits(63)) for _ in calls]
        history = [{"role": "user", "content": self.request(calls, split, rng)},
                   {"role": "assistant", "content": self.dialect.render(calls)},
                   *(self.dialect.tool_message(c, r) if hasattr(self.dialect, "tool_message")
                     else {"role": "tool", "content": str(r)} for c, r in zip(calls, results))]
        answer = self.answer(calls, results, rng)
        if rng.random() < 0.5 or len(self.tools) < 2:
            offered = self.offer([tool], rng)
            messages = [*self.opening(offered), *history]
            return Draft(output={"answer": answer}, input=messages)
        following = rng.choice([t for t in self.tools if t is not tool])
        then = [self.call(following, split, rng)]
        history.append({"role": "assistant", "content": answer})
        offered = self.offer([tool, following], rng)
        return self._turn(offered, self.request(then, split, rng), {"calls": then}, history)


class ToolCallGenerator:
    """Conversations of every category (see the module docstring)."""

    name = "tool-calls"

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        plan: Conversations = task.memo("tool-calls:conversations", lambda: Conversations(task, task.schema))
        split = split_of(task, seed)
        rng = random.Random(derive_seed(seed, index, "tool-calls"))
        general = task.options("tools").general
        source = "task"
        if general is not None and split == "train" and rng.random() < general.share:
            plan = task.memo("tool-calls:general",
                             lambda: Conversations(task, general_tools(task), own_templates=False))
            source = "general"
        category = plan.cycle[index % len(plan.cycle)]
        contrast = task.options("tools").contrast
        if category == "irrelevance" and split == "train" and source == "task" and contrast \
                and rng.random() < contrast:
            twin = self._twin(task, plan, seed, index, rng)
            if twin is not None:
                return twin
        draft = plan.draft(category, split, rng)
        draft.meta = {"category": category, "template": plan.written_by, "tools": source}
        return draft

    def _twin(self, task: Task, plan: Conversations, seed: int, index: int, rng: random.Random) -> Draft | None:
        """The nearest earlier simple or multiple turn of this split, with its called tool taken
        out of the offer and a decline for an answer; None when there is no such turn to twin."""
        if plan.options.offer == "all":
            return None
        length = len(plan.cycle)
        near = next((j for j in range(index - 1, max(-1, index - length), -1)
                     if plan.cycle[j % length] in ("simple", "multiple")), None)
        if near is None:
            return None
        original = self.draft(task, seed=seed, index=near)
        if original.meta.get("tools") != "task" or not isinstance(original.input, list):
            return None
        called = {c["name"] for c in original.output["calls"]}
        offered = [t for t in original.input[0]["tools"] if t["name"] not in called]
        offered = offered or [rng.choice([t for t in plan.tools if t["name"] not in called])]
        return Draft(output={"answer": rng.choice(plan.options.declines)},
                     input=[*plan.opening(offered), *original.input[1:]],
                     meta={"category": "irrelevance", "template": original.meta["template"], "tools": "task",
                           "twin_of": near})
