"""Values that look like the user's data: the schema's examples/defaults, caller hints, and what
property names suggest (identifiers, companies, products...)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sampling import draws

from formtune.errors import SamplingError
from formtune.schema.sampler import SchemaSampler

SEEDS = range(200)


# -- examples and default ---------------------------------------------------------------------

def test_examples_are_used_sometimes_and_only_when_valid() -> None:
    values = Counter(draws({"type": "string", "maxLength": 6, "examples": ["alpha", "beta", "much too long"]},
                           SEEDS))
    used = values["alpha"] + values["beta"]
    assert 0.15 * len(SEEDS) <= used <= 0.45 * len(SEEDS), values  # about 30 %
    assert values["alpha"] and values["beta"] and values["much too long"] == 0
    assert sum(values.values()) - used >= 0.5 * len(SEEDS)  # the rest is generated


def test_default_is_a_candidate() -> None:
    values = draws({"type": "integer", "minimum": 0, "maximum": 10**6, "default": 777}, SEEDS)
    assert 0.15 * len(SEEDS) <= values.count(777) <= 0.45 * len(SEEDS)


def test_object_examples_give_values_to_their_properties() -> None:
    schema = {"type": "object", "required": ["city", "zip"],
              "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{4}$"}},
              "examples": [{"city": "Utrecht", "zip": "3511 AB"}, {"city": "Delft", "zip": "2611"}]}
    values = draws(schema, SEEDS)
    cities = Counter(v["city"] for v in values)
    assert cities["Utrecht"] and cities["Delft"] and len(cities) > 20  # used, but not always
    assert all(v["zip"] != "3511 AB" for v in values)  # an example that breaks the pattern is skipped
    assert any(v["zip"] == "2611" for v in values)
    items = draws({"type": "array", "items": {"type": "string"}, "examples": [["red", "green"]]}, SEEDS)
    assert any("green" in v for v in items)


# -- caller hints -------------------------------------------------------------------------------

TICKET = {
    "type": "object", "required": ["customer", "items", "tags"],
    "properties": {
        "customer": {"type": "object", "required": ["name", "company", "iban"],
                     "properties": {"name": {"type": "string"}, "company": {"type": "string"},
                                    "iban": {"type": "string"}}},
        "name": {"type": "string"},
        "items": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["sku", "quantity", "price"],
            "properties": {"sku": {"type": "string", "maxLength": 8}, "quantity": {"type": "integer"},
                           "price": {"type": "number"}}}},
        "tags": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "status": {"enum": ["open", "closed"]},
    },
}


def test_faker_provider_hint_with_locale() -> None:
    values = draws(TICKET, range(20), hints={"iban": "iban"}, locale="de_DE")
    assert all(re.fullmatch(r"DE\d{20}", v["customer"]["iban"]) for v in values)


def test_regex_hint_and_fallback_when_it_does_not_fit() -> None:
    sampler = SchemaSampler(TICKET, hints={"sku": "regex:^[A-Z]{3}-[0-9]{4,6}$"})
    values = draws(TICKET, range(40), hints={"sku": "regex:^[A-Z]{3}-[0-9]{4,6}$"})
    skus = [item["sku"] for v in values for item in v["items"]]
    assert all(re.fullmatch(r"[A-Z]{3}-\d{4}", s) for s in skus)  # maxLength 8 holds; the fallback (an
    for seed in range(40):                                          # sku-shaped identifier) looks alike
        sampler.sample(seed)
    assert sampler.hint_uses["sku"] > 0 and sampler.hint_fallbacks["sku"] > 0  # 6 digits: too long


def test_list_hint_by_pointer_beats_property_name() -> None:
    hints = {"name": ["Top Level"], "/customer/name": ["Ada Lovelace", "Alan Turing"]}
    values = draws(TICKET, range(60), hints=hints)
    assert {v["customer"]["name"] for v in values} == {"Ada Lovelace", "Alan Turing"}
    assert {v["name"] for v in values if "name" in v} == {"Top Level"}


def test_range_hint_makes_integers_or_two_decimal_numbers() -> None:
    values = draws(TICKET, range(30), hints={"/items/*/quantity": {"min": 2, "max": 4},
                                             "price": {"min": 1.5, "max": 9.99}})
    items = [item for v in values for item in v["items"]]
    assert {i["quantity"] for i in items} == {2, 3, 4}
    assert all(1.5 <= i["price"] <= 9.99 and round(i["price"], 2) == i["price"] for i in items)
    assert any(not float(i["price"]).is_integer() for i in items)


def test_scalar_hint_on_an_array_applies_to_its_items() -> None:
    values = draws(TICKET, range(30), hints={"tags": ["urgent", "billing", "vip"]})
    assert set().union(*(v["tags"] for v in values)) == {"urgent", "billing", "vip"}


def test_hint_outside_an_enum_falls_back_to_the_enum() -> None:
    sampler = SchemaSampler(TICKET, hints={"status": ["open", "archived"]})
    values = [sampler.sample(seed) for seed in range(60)]
    assert {v["status"] for v in values if "status" in v} == {"open", "closed"}
    assert sampler.hint_fallbacks["status"] > 0


@pytest.mark.parametrize("hints, problem", [
    ({"company": "compnay"}, "unknown Faker provider 'compnay' for locale en_US; did you mean 'company'"),
    ({"sku": "regex:[A-"}, "bad regex '[A-'"),
    ({"tags": []}, "the list of values is empty"),
    ({"quantity": {"min": 5, "max": 1}}, "the range's min 5 is greater than its max 1"),
    ({"quantity": {"low": 1}}, "a range is {'min': a, 'max': b} with two numbers"),
    ({"quantity": "regex:^[a-z]+$"}, "the hint makes string values but the schema wants integer"),
    ({"company": {"min": 1, "max": 9}}, "the hint makes integer values but the schema wants string"),
    ({"status": ["open", 3]}, "the hint makes integer values but the schema wants string"),
    ({"company": "pyint"}, "the hint makes integer values but the schema wants string"),
    ({"compnay": "company"}, "the schema has no such property"),
    ({"/customer/nme": "name"}, "the schema has no such location"),
    ({"company": 42}, "42 is not a hint"),
])
def test_bad_hints_fail_when_the_sampler_is_built(hints: dict, problem: str) -> None:
    field = next(iter(hints))
    with pytest.raises(SamplingError) as info:
        SchemaSampler(TICKET, hints=hints)
    message = str(info.value)
    assert message.startswith(f"hint for {field!r}: {problem}"), message
    assert info.value.path == field
    assert "a Faker provider name" in message or "JSON pointer" in message  # says what is accepted


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(SamplingError, match="locale 'xx_XX' is not a Faker locale"):
        SchemaSampler(TICKET, locale="xx_XX")


# -- what property names suggest ------------------------------------------------------------------

NAMED = ["supplier", "vendor_name", "product_name", "order_id", "sku", "invoice_number", "code", "city",
         "country", "currency", "customerRef"]


def test_names_suggest_realistic_strings() -> None:
    schema = {"type": "object", "required": NAMED, "properties": {n: {"type": "string"} for n in NAMED}}
    for v in draws(schema, range(40)):
        assert v["supplier"][0].isupper() and v["vendor_name"][0].isupper()
        assert re.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)+", v["product_name"]), v["product_name"]
        assert re.fullmatch(r"ORD-\d{4,6}", v["order_id"]) and re.fullmatch(r"[A-Z]{3}-\d{4}", v["sku"])
        assert re.fullmatch(r"INV-\d{4,6}", v["invoice_number"]) and re.fullmatch(r"[A-Z]{2}\d{2}", v["code"])
        assert re.fullmatch(r"CUS-\d{4,6}", v["customerRef"])
        assert re.fullmatch(r"[A-Z]{3}", v["currency"]) and v["city"][0].isupper() and v["country"][0].isupper()


def test_identifier_names_without_realism_stay_plain() -> None:
    values = draws({"type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "string"}}},
                   range(10), realistic=False)
    assert all(re.fullmatch(r"[a-z]+", v["order_id"]) for v in values)
