"""A task's rule set, loaded and checked: facts, prioritized logic rules, the default, style
rules and the templates of the other answer fields.

Priority is per field: each field the rules decide takes the value of the highest rule that holds
and sets it, else the default's. The rules that decide at least one field make the example's
*branch* ("return-window + manager-approval"; "default" when none does); a rule that holds but
loses every field it sets to higher rules is *overridden* (a conflict that priority resolved).

Every mistake is one :class:`~formtune.errors.TaskError` naming the file, the line and the rule:
a condition that does not parse, an unknown fact or answer field, a value the schema forbids, an
unreachable rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from formtune.contrib import Condition, RuleSyntaxError
from formtune.errors import PluginError, TaskError
from formtune_rules.facts import Fact
from formtune_rules.locate import line_of
from formtune_rules.spec import RulesOptions, RuleSetSpec, StyleSpec

if TYPE_CHECKING:
    from formtune.task import Task
    from formtune.templates import InputTemplate


@dataclass
class Rule:
    id: str
    condition: Condition
    then: dict[str, Any]
    source: Any  # the condition as written


@dataclass
class StyleRule:
    spec: StyleSpec
    condition: Condition | None


@dataclass
class Decision:
    """What the rules make of some facts."""

    answer: dict[str, Any]  # every decided field and its value
    deciders: dict[str, str]  # field -> the rule id that decided it ("default" for the default)
    fired: list[str]  # the rules whose condition holds, in priority order

    @property
    def deciding(self) -> list[str]:
        """The rules that decide at least one field, in priority order."""
        return [r for r in self.fired if r in self.deciders.values()]

    @property
    def branch(self) -> str:
        return " + ".join(self.deciding) or "default"

    @property
    def overridden(self) -> list[str]:
        return [r for r in self.fired if r not in self.deciders.values()]


@dataclass
class RuleSet:
    """A checked rule set (see the module docstring)."""

    spec: RuleSetSpec
    facts: dict[str, Fact]
    rules: list[Rule]
    style: list[StyleRule]
    fields: dict[str, InputTemplate]
    source: Path | None  # the YAML file the rule set is written in
    root: tuple[Any, ...]  # where the rule set starts in that file
    branches: list[str] = field(default_factory=list)  # every reachable branch
    explored: Any = None  # the enumerated decision structure (formtune_rules.branches.Explored)

    @property
    def decided_fields(self) -> list[str]:
        return list(self.spec.default)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    @cached_property
    def windows(self) -> dict[str, list[int]]:
        """The windows an answer may state (``rules.state_windows``): per relative date, the whole
        numbers of days the rules compare it with ("today - delivered > 30": 30); empty without
        the option."""
        if not self.spec.state_windows:
            return {}
        found: dict[str, set[int]] = {}
        for rule in self.rules:
            for name, constants in rule.condition.constants.items():
                if name in self.facts and self.facts[name].relative:
                    days = [c for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)]
                    found.setdefault(name, set()).update(int(c) for c in days if c == int(c))
        return {name: sorted(days) for name, days in found.items() if days}

    @property
    def worked(self) -> list[str]:
        """The relative dates whose day count an answer may work out (``rules.state_working``)."""
        return [name for name, fact in self.facts.items() if fact.relative] if self.spec.state_working else []

    def decide(self, facts: Mapping[str, Any]) -> Decision:
        return self.resolve([r for r in self.rules if r.condition.evaluate(facts)])

    def resolve(self, fired: list[Rule]) -> Decision:
        """The decision when the rules ``fired`` (in priority order) hold and no other does."""
        answer, deciders = dict(self.spec.default), dict.fromkeys(self.spec.default, "default")
        for field_name in self.spec.default:
            winner = next((r for r in fired if field_name in r.then), None)
            if winner is not None:
                answer[field_name], deciders[field_name] = winner.then[field_name], winner.id
        return Decision(answer, deciders, [r.id for r in fired])

    def holds(self, decision: Decision) -> dict[str, bool]:
        """Whether each rule holds, highest priority first: what ``rules.state_rules`` states."""
        return {r.id: r.id in decision.fired for r in self.rules}

    def where(self, *location: Any) -> str:
        """``file:line`` of a key of the rule set, for messages."""
        line = line_of(self.source, (*self.root, *location))
        return f"{self.source or 'rules'}:{line}" if line else str(self.source or "rules")

    def describe(self, rule_id: str, facts: Mapping[str, Any]) -> str:
        """The facts a rule reads, with their values ("amount = 312.4, account = 'personal'"),
        relative dates also as days from their reference."""
        if rule_id == "default":
            return "no rule applies"
        parts = []
        for name in sorted(self.rule(rule_id).condition.names):
            fact, value = self.facts.get(name), facts.get(name)
            text = f"{name} = {value!r}" if not hasattr(value, "isoformat") else f"{name} = {value.isoformat()}"
            if fact is not None and fact.relative and fact.spec.relative_to in facts:
                days = (facts[fact.spec.relative_to] - value).days
                text += f" ({days} days before {fact.spec.relative_to})"
            parts.append(text)
        return ", ".join(parts)


def _answer_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


class _Loader:
    """Builds a :class:`RuleSet` for a task, raising one TaskError line per mistake."""

    def __init__(self, task: Task) -> None:
        self.task = task
        options: RulesOptions = task.options("rules")
        if options.file is not None:
            self.source, self.root = task.base_dir / options.file, ()
            self.spec = self._read_file(self.source)
        else:
            self.source, self.root = task.source, ("rules",)
            self.spec = options

    def fail(self, location: tuple[Any, ...], message: str) -> TaskError:
        line = line_of(self.source, (*self.root, *location))
        return TaskError(f"{self.source or 'rules'}{f':{line}' if line else ''}: {message}")

    def _read_file(self, path: Path) -> RuleSetSpec:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TaskError(f"{self.task.source}: rules.file: cannot read {path} ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise TaskError(f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML: "
                            f"{getattr(exc, 'problem', exc)}") from None
        try:
            return RuleSetSpec.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise self.fail(tuple(err["loc"]), f"field '{where}': {err['msg']}") from None

    def load(self) -> RuleSet:
        from formtune.templates import compile_template

        spec = self.spec
        try:
            engine = self.task.registry.get("rule_engines", spec.engine)
        except PluginError as exc:
            raise self.fail(("engine",), str(exc)) from None
        facts = {name: Fact(name, fs) for name, fs in spec.facts.items()}
        for name, fact in facts.items():
            ref = fact.spec.relative_to
            if ref is not None and (ref not in facts or facts[ref].spec.type != "date" or facts[ref].relative):
                raise self.fail(("facts", name, "relative_to"), f"fact {name!r} counts days from {ref!r}, "
                                "which is not an absolute date fact; name one")
        self._check_answer(("default",), spec.default, "the default")
        names = {n: f.engine_type for n, f in facts.items()}
        rules = []
        for i, rs in enumerate(spec.rules):
            condition = self._compile(engine, rs.when, names, ("rules", i, "when"), f"rule {rs.id!r}")
            self._check_enums(condition, facts, ("rules", i, "when"), f"rule {rs.id!r}")
            unknown = sorted(set(rs.then) - set(spec.default))
            if unknown:
                raise self.fail(("rules", i, "then"), f"rule {rs.id!r} sets {', '.join(unknown)}, which the default "
                                f"does not give (it gives {', '.join(spec.default)}); add it to 'default' or fix the name")
            self._check_answer(("rules", i, "then"), rs.then, f"rule {rs.id!r}")
            rules.append(Rule(rs.id, condition, dict(rs.then), rs.when))
        style_names = {**names, **{f: _answer_type(v) for f, v in spec.default.items()}}
        style = []
        for i, ss in enumerate(spec.style):
            if ss.field and not ss.field.startswith("/"):
                raise self.fail(("style", i, "field"), f"style rule {ss.id!r}: field is a JSON pointer such as "
                                f"'/{ss.field}' ('' for the whole completion)")
            condition = None
            if ss.when is not None:
                condition = self._compile(engine, ss.when, style_names, ("style", i, "when"), f"style rule {ss.id!r}")
            style.append(StyleRule(ss, condition))
        for option in ("state_dates", "state_quotes"):
            if getattr(spec, option) and spec.state is None:
                raise self.fail((option,), f"'{option}' says how the facts are stated; it needs 'state', "
                                "the answer field that states them")
        needs_dates = {"state_windows": "states a relative date plus some days in place of its day count",
                       "state_working": "works out a relative date's day count from the date"}
        for option, does in needs_dates.items():
            if getattr(spec, option) and not spec.state_dates:
                raise self.fail((option,), f"'{option}' {does}; it needs 'state_dates: true', which states the "
                                "date itself")
        if spec.state_working and spec.state_windows:
            raise self.fail(("state_working",), "'state_working' and 'state_windows' are two ways to state "
                            "a date given alone; keep one")
        if spec.state_working:
            after = [n for n, f in facts.items() if f.relative and f.spec.max is not None and f.spec.max > 0]
            if after:
                raise self.fail(("facts", after[0], "max"), f"'state_working' counts the days from {after[0]!r} "
                                "forward to its reference, so it cannot come after it; set max: 0 or drop "
                                "'state_working'")
        counted = {n for r in rules for n in r.condition.constants if n in facts and facts[n].relative}
        if spec.state_windows and not counted:
            raise self.fail(("state_windows",), "'state_windows': no rule compares a relative date's days with a "
                            "number (such as 'today - delivered > 30'), so there is no window to state")
        if spec.state is not None:
            self._check_field(("state",), spec.state)
            if spec.state in spec.default or spec.state in spec.fields:
                raise self.fail(("state",), f"{spec.state!r} is decided by the rules or written by a template; "
                                "the facts need a field of their own")
        if spec.state_rules is not None:
            self._check_field(("state_rules",), spec.state_rules)
            if spec.state_rules in {spec.state, *spec.default, *spec.fields}:
                raise self.fail(("state_rules",), f"{spec.state_rules!r} already holds the facts, a decided field "
                                "or a templated one; the rule checks need a field of their own")
        templates = {}
        for name, ref in spec.fields.items():
            self._check_field(("fields", name), name)
            if ref.file is not None:
                path = self.task.base_dir / ref.file
                try:
                    text, origin = path.read_text(encoding="utf-8"), str(path)
                except OSError as exc:
                    raise self.fail(("fields", name, "file"), f"cannot read {path} ({exc.strerror})") from None
            else:
                text, origin = ref.text or "", f"{self.source} rules.fields.{name}"
            templates[name] = compile_template(text, origin, self.task.base_dir)
        if spec.extractor is not None:
            try:
                self.task.registry.get("fact_extractors", spec.extractor)
            except PluginError as exc:
                raise self.fail(("extractor",), str(exc)) from None
        ruleset = RuleSet(spec, facts, rules, style, templates, self.source, self.root)
        self._check_reachable(ruleset)
        return ruleset

    def _compile(self, engine: Any, source: Any, names: dict[str, str], location: tuple[Any, ...],
                 what: str) -> Condition:
        try:
            return engine.compile(source, names)
        except RuleSyntaxError as exc:
            column = f", column {exc.column}" if exc.column else ""
            raise self.fail(location, f"{what}: condition {source!r}{column}: {exc.message}") from None

    def _check_enums(self, condition: Condition, facts: dict[str, Fact], location: tuple[Any, ...], what: str) -> None:
        for name, constants in condition.constants.items():
            fact = facts.get(name)
            if fact is not None and fact.spec.type == "enum":
                bad = sorted(str(c) for c in constants if c not in (fact.spec.values or []))
                if bad:
                    raise self.fail(location, f"{what}: {name} is compared with {', '.join(map(repr, bad))}, which is "
                                    f"not one of its values ({', '.join(fact.spec.values or [])})")

    def _properties(self) -> dict[str, Any] | None:
        schema = self.task.schema
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            return schema["properties"]
        return None

    def _check_field(self, location: tuple[Any, ...], name: str) -> None:
        properties = self._properties()
        if properties is not None and name not in properties:
            raise self.fail(location, f"{name!r} is not a field of the task's schema (fields: "
                            f"{', '.join(properties)})")

    def _check_answer(self, location: tuple[Any, ...], answer: dict[str, Any], what: str) -> None:
        properties = self._properties() or {}
        for name, value in answer.items():
            self._check_field((*location, name), name)
            allowed = properties.get(name, {}).get("enum") if isinstance(properties.get(name), dict) else None
            if allowed is not None and value not in allowed:
                raise self.fail((*location, name), f"{what} sets {name} to {value!r}, which the schema does not "
                                f"allow ({', '.join(map(str, allowed))})")

    def _check_reachable(self, ruleset: RuleSet) -> None:
        from formtune_rules.branches import explore

        explored = explore(ruleset)
        for i, rule in enumerate(ruleset.rules):
            if rule.id not in explored.fired:
                raise self.fail(("rules", i, "when"), f"rule {rule.id!r} is unreachable: its condition "
                                f"{rule.source!r} holds for no value the facts may take")
            if rule.id not in explored.deciding:
                higher = sorted(explored.overriders.get(rule.id, set()))
                raise self.fail(("rules", i, "when"), f"rule {rule.id!r} is unreachable: whenever it holds, higher "
                                f"rules ({', '.join(higher)}) already decide every field it sets; move it up or drop it")
        ruleset.branches = sorted(explored.buckets, key=lambda b: (b == "default", b))
        ruleset.explored = explored
        for i, name in enumerate(ruleset.spec.holdout_branches):
            if name not in explored.buckets:
                raise self.fail(("holdout_branches", i), f"no reachable branch is named {name!r} (branches: "
                                f"{'; '.join(ruleset.branches)})")


def rule_set(task: Task) -> RuleSet | None:
    """The task's checked rule set, ``None`` when the task has no ``rules:`` section."""
    if "rules" not in (task.spec.model_extra or {}):
        return None
    return task.memo("rules:ruleset", lambda: _Loader(task).load())
