"""A hypothesis strategy for JSON values, shared by the property tests of formats and tool-call
dialects (not a test module itself)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(*, text: st.SearchStrategy[str] = st.text(max_size=8),
                keys: st.SearchStrategy[str] = st.text(max_size=5), integers: st.SearchStrategy[int] = st.integers(),
                floats: bool = True, size: int = 3, leaves: int = 8) -> st.SearchStrategy[Any]:
    """null, booleans, numbers and strings, nested in lists and objects of at most ``size`` members;
    finite floats only, since JSON has no NaN or infinity."""
    scalars = [st.none(), st.booleans(), integers, text]
    if floats:
        scalars.insert(3, st.floats(allow_nan=False, allow_infinity=False))

    def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.lists(inner, max_size=size), st.dictionaries(keys, inner, max_size=size))

    return st.recursive(st.one_of(*scalars), containers, max_leaves=leaves)


#: Tool-call arguments: larger containers, longer strings, and integers a tool would take.
ARGUMENT_VALUES = json_values(text=st.text(max_size=30), keys=st.text(max_size=8),
                              integers=st.integers(-10**12, 10**12), size=4, leaves=12)
