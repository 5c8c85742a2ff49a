"""The ``expr`` rule engine: a small condition language with a real parser (lark), never ``eval``.

    previous_refunds >= 3
    today - delivered > 30 and reason != "damaged"
    amount > 250 or account == "business"
    reason in ["damaged", "wrong_item"] and not gift

Values are numbers, strings, booleans and dates (``2025-03-01``). ``date - date`` is a number of
days, ``date ± number`` a date. Comparisons need both sides of one type; ``and``, ``or`` and
``not`` need booleans. Every name must be a declared fact (or answer field): a mistake is a
:class:`~formtune.contrib.RuleSyntaxError` with its column.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from formtune.contrib import RuleSyntaxError

GRAMMAR = r"""
?start: or_
?or_: and_ ("or" and_)*
?and_: not_ ("and" not_)*
?not_: "not" not_ -> negation
     | comparison
?comparison: sum COMPARE sum -> compare
           | sum "in" list -> member
           | sum "not" "in" list -> non_member
           | sum
?sum: atom (SIGN atom)*
?atom: DATE -> date
     | NUMBER -> number
     | STRING -> string
     | "true" -> true
     | "false" -> false
     | NAME -> name
     | "(" or_ ")"
list: "[" [atom ("," atom)*] "]"
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
SIGN: "+" | "-"
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER: /\d+(\.\d+)?/
STRING: /"[^"\\]*"/ | /'[^'\\]*'/
NAME: /(?!(and|or|not|in|true|false)\b)[A-Za-z_][A-Za-z0-9_]*/
%ignore /\s+/
"""



@lru_cache(maxsize=1)
def _parser() -> Lark:
    """Built on first use: loading plugins stays cheap."""
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_ORDERED = ("number", "date")


@dataclass
class _Node:
    """A typed expression: its type, how to evaluate it, the names it reads, its constant value."""

    type: str
    run: Callable[[Mapping[str, Any]], Any]
    names: frozenset[str] = frozenset()
    constant: Any = None
    is_constant: bool = False


@dataclass
class ExprCondition:
    """A compiled condition (see :class:`formtune.contrib.Condition`)."""

    source: str
    root: _Node
    constants: dict[str, frozenset[Any]] = field(default_factory=dict)

    @property
    def names(self) -> frozenset[str]:
        return self.root.names

    def evaluate(self, facts: Mapping[str, Any]) -> bool:
        return bool(self.root.run(facts))


def _column(item: Tree | Token) -> int | None:
    if isinstance(item, Token):
        return item.column
    return getattr(item.meta, "column", None)


class _Compiler:
    def __init__(self, names: Mapping[str, str]) -> None:
        self.types = {n: ("number" if t == "integer" else t) for n, t in names.items()}
        self.constants: dict[str, set[Any]] = {}

    def fail(self, message: str, item: Tree | Token) -> RuleSyntaxError:
        return RuleSyntaxError(message, _column(item))

    def node(self, item: Tree | Token) -> _Node:
        kind = item.data if isinstance(item, Tree) else item.type
        return getattr(self, f"_{kind}")(item)

    def _const(self, type_: str, value: Any) -> _Node:
        return _Node(type_, lambda facts: value, constant=value, is_constant=True)

    def _number(self, item: Tree) -> _Node:
        text = str(item.children[0])
        return self._const("number", float(text) if "." in text else int(text))

    def _date(self, item: Tree) -> _Node:
        try:
            return self._const("date", dt.date.fromisoformat(str(item.children[0])))
        except ValueError:
            raise self.fail(f"{item.children[0]} is not a calendar date", item) from None

    def _string(self, item: Tree) -> _Node:
        return self._const("string", str(item.children[0])[1:-1])

    def _true(self, item: Tree) -> _Node:
        return self._const("boolean", True)

    def _false(self, item: Tree) -> _Node:
        return self._const("boolean", False)

    def _name(self, item: Tree) -> _Node:
        name = str(item.children[0])
        if name not in self.types:
            known = ", ".join(sorted(self.types)) or "none"
            raise self.fail(f"unknown fact {name!r} (known: {known})", item)
        return _Node(self.types[name], lambda facts: facts[name], frozenset({name}))

    def _sum(self, item: Tree) -> _Node:
        left = self.node(item.children[0])
        for sign, child in zip(item.children[1::2], item.children[2::2]):
            left = self._arithmetic(left, str(sign), self.node(child), sign)
        return left

    def _arithmetic(self, left: _Node, sign: str, right: _Node, item: Tree | Token) -> _Node:
        pair = (left.type, sign, right.type)
        if pair == ("date", "-", "date"):
            run = (lambda lr, rr: lambda f: (lr(f) - rr(f)).days)(left.run, right.run)
            type_ = "number"
        elif pair[0] == "date" and pair[2] == "number":
            step = 1 if sign == "+" else -1
            run = (lambda lr, rr: lambda f: lr(f) + dt.timedelta(days=step * rr(f)))(left.run, right.run)
            type_ = "date"
        elif pair[0] == pair[2] == "number":
            op = operator.add if sign == "+" else operator.sub
            run = (lambda lr, rr: lambda f: op(lr(f), rr(f)))(left.run, right.run)
            type_ = "number"
        else:
            raise self.fail(f"cannot compute {left.type} {sign} {right.type}", item)
        node = _Node(type_, run, left.names | right.names)
        if left.is_constant and right.is_constant:
            return self._const(type_, run({}))
        return node

    def _note(self, names: frozenset[str], values: list[Any]) -> None:
        for name in names:
            self.constants.setdefault(name, set()).update(values)

    def _compare(self, item: Tree) -> _Node:
        left, op, right = self.node(item.children[0]), str(item.children[1]), self.node(item.children[2])
        if left.type != right.type:
            raise self.fail(f"cannot compare {left.type} with {right.type}", item.children[1])
        if op not in ("==", "!=") and left.type not in _ORDERED:
            raise self.fail(f"{op} needs numbers or dates, not {left.type}s", item.children[1])
        for side, other in ((left, right), (right, left)):
            if other.is_constant:
                self._note(side.names, [other.constant])
        compare, lr, rr = _COMPARE[op], left.run, right.run
        return _Node("boolean", lambda f: compare(lr(f), rr(f)), left.names | right.names)

    def _member(self, item: Tree, negate: bool = False) -> _Node:
        left = self.node(item.children[0])
        options = [self.node(child) for child in item.children[1].children]
        for option, child in zip(options, item.children[1].children):
            if not option.is_constant or option.type != left.type:
                raise self.fail(f"'in' needs a list of {left.type} constants", child)
        values = frozenset(o.constant for o in options)
        self._note(left.names, list(values))
        lr = left.run
        return _Node("boolean", lambda f: (lr(f) in values) != negate, left.names)

    def _non_member(self, item: Tree) -> _Node:
        return self._member(item, negate=True)

    def _boolean(self, item: Tree, parts: list[_Node], combine: Callable[[Any], bool]) -> _Node:
        for part, child in zip(parts, item.children):
            if part.type != "boolean":
                raise self.fail(f"expected a condition, found a {part.type}", child)
        runs = [p.run for p in parts]
        return _Node("boolean", lambda f: combine(r(f) for r in runs), frozenset().union(*(p.names for p in parts)))

    def _or_(self, item: Tree) -> _Node:
        return self._boolean(item, [self.node(c) for c in item.children], any)

    def _and_(self, item: Tree) -> _Node:
        return self._boolean(item, [self.node(c) for c in item.children], all)

    def _negation(self, item: Tree) -> _Node:
        inner = self._boolean(item, [self.node(item.children[0])], all)
        return _Node("boolean", lambda f: not inner.run(f), inner.names)


class ExprEngine:
    """The builtin condition language (see the module docstring)."""

    name = "expr"

    def compile(self, source: Any, names: Mapping[str, str]) -> ExprCondition:
        if not isinstance(source, str) or not source.strip():
            raise RuleSyntaxError("a condition of the expr engine is a non-empty string such as 'amount > 250'")
        try:
            tree = _parser().parse(source)
        except RecursionError:
            raise RuleSyntaxError("the condition is nested too deeply") from None
        except UnexpectedInput as exc:
            if getattr(getattr(exc, "token", None), "type", "") == "$END":
                raise RuleSyntaxError("the condition ends too early", len(source.rstrip()) + 1) from None
            found = source[exc.pos_in_stream:exc.pos_in_stream + 12] if exc.pos_in_stream is not None else ""
            raise RuleSyntaxError(f"cannot parse the condition at {found!r}",
                                  exc.column if isinstance(exc.column, int) and exc.column > 0 else None) from None
        compiler = _Compiler(names)
        try:
            root = compiler.node(tree)
        except RecursionError:
            raise RuleSyntaxError("the condition is nested too deeply") from None
        if root.type != "boolean":
            raise RuleSyntaxError(f"a condition must be true or false, this is a {root.type}", 1)
        return ExprCondition(source, root, {n: frozenset(v) for n, v in compiler.constants.items()})
