"""Generating: one value of one JSON type from a node of merged constraints.

Each generator aims for values a person would write (short words, small round numbers, a few
array items, a handful of optional properties) rather than edge cases, because the instances
become training data. Strings try, in turn, what the property name suggests
(:mod:`.realistic`), the ``format``, the ``pattern``, and plain words; numbers are drawn as exact
multiples of every ``multipleOf``. Arrays and objects recurse through :meth:`Draw.value`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable

from formtune.schema.sampler.budget import MAX_STRING
from formtune.schema.sampler.keywords import Loc, Node, Part, Unsat
from formtune.schema.sampler.realistic import FORMATS, NUMBER_HINTS, hint_for, string_maker, suggest
from formtune.schema.sampler.values import TooLong, Xeger, canon, common_step, fraction, is_multiple, min_length, search

if TYPE_CHECKING:
    from formtune.schema.sampler.draw import Draw

MAX_OPTIONAL = 12  # optional properties per object, at most


def string_value(d: Draw, node: Node, depth: int, loc: Loc) -> str:
    def fits(text: str) -> bool:
        return (node.min_len <= len(text) and (node.max_len is None or len(text) <= node.max_len)
                and all(search(p, text) for p in node.patterns)
                and not any(search(p, text) for p in node.not_patterns)
                and all(d.s.validator.format_checker.conforms(text, f) for f in node.formats))

    maker = string_maker(loc.name) if loc.name and d.fake is not None else None
    if maker is not None:
        text = suggest(maker, d.fake, d.rng)
        if isinstance(text, str) and fits(text):
            return text
    known = [f for f in node.formats if f in FORMATS]
    for attempt in range(8):
        if known and not (node.patterns and attempt % 2):  # both: take turns
            text = FORMATS[d.rng.choice(known)](d)
        elif node.patterns:
            text = from_pattern(d, d.rng.choice(node.patterns), node, attempt, loc.path)
        else:
            text = words(d, node.min_len, node.max_len)
        if fits(text):
            return text
    keyword = "format" if known else "pattern" if node.patterns else "minLength"
    raise Unsat(keyword, loc.path, f"no string found for {keyword} {node.patterns or node.formats}")


def from_pattern(d: Draw, pattern: str, node: Node, attempt: int, path: str) -> str:
    if min_length(pattern) > MAX_STRING:
        raise Unsat("pattern", path, f"{pattern!r} makes strings over the sampler's limit of {MAX_STRING:,} "
                                     "characters", retry=False)
    # Few repeats first: shorter strings read better, and some schemas' regexes backtrack
    # exponentially in the length of the string (the validator would take minutes).
    # Later attempts allow more, for a minLength that an anchored pattern cannot pad.
    repeat = 3 * 2 ** (attempt // 2) if attempt < 2 else max(3 * 2 ** (attempt // 2), node.min_len)
    if node.max_len is not None:
        repeat = max(1, min(repeat, node.max_len if attempt >= 2 else node.max_len // 4))
    try:
        text = Xeger(d.rng, repeat, MAX_STRING).xeger(pattern)
    except Exception:  # noqa: BLE001 - TooLong (a{0,1000000} made long), or sre internals on exotic patterns
        return ""
    if len(text) < node.min_len and not pattern.endswith("$"):
        text += "x" * (node.min_len - len(text))  # unanchored: extra text keeps the match
    return text


def words(d: Draw, low: int, high: int | None) -> str:
    text = d.word()
    while len(text) < low:
        text += " " + d.word()
    if high is not None and len(text) > high:
        text = text[:high].rstrip() or "x" * high
        text += "x" * (low - len(text)) if len(text) < low else ""
    return text


def number_value(d: Draw, node: Node, depth: int, loc: Loc, integer: bool = False) -> float:
    tries: list[float] = []
    maker = hint_for(loc.name, NUMBER_HINTS) if loc.name and d.fake is not None else None
    if maker is not None:
        tries.append(suggest(maker, d.fake, d.rng))
    step = common_step(node.multiples + ([1] if integer else []))
    tries += multiples(d, node, step, loc.path) if step is not None else plain(d, node, integer)
    for value in tries:
        if isinstance(value, float) and value.is_integer() and (abs(value) < 2**53 or integer):
            value = int(value)  # 12, not 12.0: valid for "number" too, and more natural
        elif integer and not isinstance(value, int):
            continue  # big integers stay exact ints: 7 * 10**30 is no float
        if number_fits(node, value):
            return value
    raise Unsat("multipleOf" if node.multiples else "minimum", loc.path,
                f"no number in [{node.lo}, {node.hi}] fits")


def plain(d: Draw, node: Node, integer: bool) -> list[float]:
    """Candidates in a "human" window inside the bounds: small, with at most 2 decimals."""
    lo, hi = node.lo, node.hi
    low = lo if lo is not None else (min(0, hi - 100) if hi is not None else 0)
    high = min(hi if hi is not None else low + 100, low + 1000)
    if integer or d.rng.random() < 0.3:
        tries = [d.rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))
                 for _ in range(8)]
    else:
        tries = [round(d.rng.uniform(low, high), 2) for _ in range(8)]
    return tries + [math.ceil(low), math.floor(high), (low + high) / 2]


def multiples(d: Draw, node: Node, step: Fraction, path: str) -> list[float]:
    """Candidates k * step, with k small and inside the bounds (counted in steps)."""
    k_lo = math.ceil(Fraction(node.lo) / step) if node.lo is not None else None
    k_hi = math.floor(Fraction(node.hi) / step) if node.hi is not None else None
    first = k_lo if k_lo is not None else (min(1, k_hi - 20) if k_hi is not None else 1)
    last = min(k_hi if k_hi is not None else first + 20, first + 20)
    if first > last:
        raise Unsat("multipleOf", path, f"no multiple of {float(step)} in [{node.lo}, {node.hi}]")
    ks = [d.rng.randint(first, last) for _ in range(16)] + list(range(first, min(last, first + 30) + 1))
    values = [k * step for k in ks if all(k * step % m for m in node.not_multiples)]
    return [int(v) if v.denominator == 1 else float(v) for v in values]


def number_fits(node: Node, value: float) -> bool:
    if node.lo is not None and (value < node.lo or (node.lo_x and value == node.lo)):
        return False
    if node.hi is not None and (value > node.hi or (node.hi_x and value == node.hi)):
        return False
    return (all(is_multiple(value, m) for m in node.multiples if m)
            and not any(fraction(value) % m == 0 for m in node.not_multiples))


def array_value(d: Draw, node: Node, depth: int, loc: Loc) -> list[Any]:
    path = loc.path
    cap = node.max_items
    for prefix, rest in node.positional:
        if rest is not None and rest[0] is False:
            cap = len(prefix) if cap is None else min(cap, len(prefix))
    need = max(node.min_contains, 0) if node.contains else 0
    low = max(node.min_items, need)
    if cap is not None and low > cap:
        raise Unsat("maxItems", path, f"needs {low} items but at most {cap} are allowed")
    if 2 * low > d.budget.steps:  # each item costs two steps at least: fail now, not after them
        keyword = "minItems" if node.min_items >= need else "minContains"
        raise Unsat(keyword, path, f"{low} items need more than the {d.budget.steps} steps of work left",
                    retry=False)
    if depth >= d.s.max_depth or d.budget.frugal():
        count = low
    else:
        count = d.rng.randint(max(low, 1), max(low, 1) + 2)
        count = min(count, cap) if cap is not None else count
    holders = set(d.rng.sample(range(count), need)) if need <= count else set()
    examples = tuple(item for ex in node.examples + list(loc.examples) if isinstance(ex, list) for item in ex)
    items: list[Any] = []
    seen: set[Any] = set()
    for index in range(count):
        parts = item_parts(node, index) + (node.contains if index in holders else [])
        via = "minItems" if index < node.min_items else "contains" if index in holders else "items"
        for _ in range(8 if node.unique else 1):
            item = d.value(parts, depth + 1, loc.item(index, examples), via=via)
            if not node.unique or canon(item) not in seen:
                break
        else:
            if index >= low:
                break  # enough items already: stop rather than repeat one
            raise Unsat("uniqueItems", path, f"cannot find {low} distinct items")
        seen.add(canon(item))
        items.append(item)
    return items


def item_parts(node: Node, index: int) -> list[Part]:
    parts: list[Part] = []
    for prefix, rest in node.positional:
        if index < len(prefix):
            parts.append(prefix[index])
        elif rest is not None:
            parts.append(rest)
    return parts


def object_value(d: Draw, node: Node, depth: int, loc: Loc) -> dict[str, Any]:
    path = loc.path
    keys = list(node.required)
    for key in keys:
        if not allowed(node, key):
            raise Unsat("additionalProperties", path, f"required {key!r} is not allowed")
    # Optional properties thin out with depth, and a wide object gets a dozen at most:
    # training examples should be readable, not every field of a Kubernetes manifest.
    chance = 0.0 if d.budget.frugal() else d.s.optional * max(0.0, 1 - depth / d.s.max_depth)
    optional = [k for k in node.props if k not in node.required and k not in node.forbidden
                and allowed(node, k)]
    picked = [k for k in optional if d.rng.random() < chance]
    if len(picked) > MAX_OPTIONAL:
        keep = set(d.rng.sample(picked, MAX_OPTIONAL))
        picked = [k for k in picked if k in keep]
    keys += picked
    if node.max_props is not None and len(keys) > node.max_props:
        keys = keys[:node.max_props]  # required ones come first and are kept
    spare = [k for k in optional if k not in keys]
    while len(keys) < node.min_props:
        key = spare.pop(0) if spare else extra_key(d, node, path, keys)
        keys.append(key)
    order = {k: i for i, k in enumerate(node.props)}
    keys.sort(key=lambda k: order.get(k, len(order)))  # schema order reads naturally
    result: dict[str, Any] = {}
    examples = [ex for ex in node.examples + list(loc.examples) if isinstance(ex, dict)]
    for key in keys:
        child = loc.key(key, tuple(ex[key] for ex in examples if key in ex))
        via = "required" if key in node.required else "properties"
        try:
            result[key] = d.value(prop_parts(node, key), depth + 1, child, via=via)
        except Unsat:
            if key in node.required or len(keys) - 1 < node.min_props:
                raise
            keys = [k for k in keys if k != key]  # optional after all: leave it out
    return result


def allowed(node: Node, key: str) -> bool:
    return all(key in names or any(search(p, key) for p in pats)
               for names, pats, (sub, _) in node.additional if sub is False)


def extra_key(d: Draw, node: Node, path: str, taken: list[str]) -> str:
    """A new property name to reach minProperties: from patternProperties, or a plain word."""
    for _ in range(10):
        if node.pattern_props and (node.no_extras or d.rng.random() < 0.7):
            pattern = d.rng.choice(node.pattern_props)[0]
            try:
                key = Xeger(d.rng, 4, MAX_STRING).xeger(pattern)
            except TooLong:
                continue
        elif node.names:
            key = d.value(node.names, d.s.max_depth, Loc(f"{path}/propertyNames", None), via="propertyNames")
        else:
            key = d.word()
        if key not in taken and key not in node.forbidden and allowed(node, key):
            return key
    raise Unsat("minProperties", path, "cannot invent enough property names")


def prop_parts(node: Node, key: str) -> list[Part]:
    parts = list(node.props.get(key, []))
    parts += [sub for pattern, sub in node.pattern_props if search(pattern, key)]
    parts += [sub for names, pats, sub in node.additional
              if key not in names and not any(search(p, key) for p in pats)]
    return parts


GENERATORS: dict[str, Callable[..., Any]] = {
    "null": lambda d, n, depth, loc: None,
    "boolean": lambda d, n, depth, loc: d.rng.random() < 0.5,
    "integer": lambda d, n, depth, loc: number_value(d, n, depth, loc, integer=True),
    "number": number_value,
    "string": string_value,
    "array": array_value,
    "object": object_value,
}
