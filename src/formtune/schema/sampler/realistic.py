"""Realistic values: what a property's *name* suggests (``email``, ``price``, ``city``...).

Training data should read like real documents, so a string property called ``email`` gets an
email address, and a ``price`` gets a money amount, whenever that value also satisfies the
subschema (the generators check it and fall back to generic values otherwise). Faker makes the
text; dates and times come from the seeded ``random.Random`` instead, because Faker's date ranges
end at "now" and would make the output depend on the day it runs.
"""

from __future__ import annotations

import random
import uuid
from typing import Any, Callable

from formtune.schema.sampler.values import snake


def _money(fake: Any, rng: random.Random) -> float:
    return round(rng.uniform(1, 500), 2)


def _call(provider: str) -> Callable[[Any, random.Random], str]:
    return lambda fake, rng: getattr(fake, provider)()


# More names a property may have, and the Faker provider that fits each (in any Faker locale that
# has the provider; where it has not, the generic value is used).
_PROVIDERS = {
    **dict.fromkeys(["supplier", "supplier_name", "vendor", "vendor_name", "manufacturer", "brand",
                     "brand_name", "merchant", "merchant_name", "seller", "company_name", "business",
                     "business_name", "organization_name", "organisation", "store_name", "shop_name",
                     "publisher", "carrier", "customer_company"], "company"),
    **dict.fromkeys(["city_name", "town", "hometown", "birthplace"], "city"),
    **dict.fromkeys(["country_name"], "country"),
    **dict.fromkeys(["country_iso", "iso_country"], "country_code"),
    **dict.fromkeys(["currency_iso", "iso_currency"], "currency_code"),
    **dict.fromkeys(["region", "province"], "state"),
    "currency_symbol": "currency_symbol", "street_name": "street_name",
    **dict.fromkeys(["address_line", "address_line1", "address1", "line1"], "street_address"),
    **dict.fromkeys(["address_line2", "address2", "line2"], "secondary_address"),
    **dict.fromkeys(["building_number", "house_number"], "building_number"),
    "iban": "iban", **dict.fromkeys(["bic", "swift", "swift_code"], "swift"),
    **dict.fromkeys(["credit_card", "card_number", "credit_card_number"], "credit_card_number"),
    "isbn": "isbn13", **dict.fromkeys(["ean", "barcode", "gtin", "upc"], "ean13"),
    "license_plate": "license_plate", **dict.fromkeys(["timezone", "time_zone", "tz"], "timezone"),
    "locale": "locale", "language_code": "language_code",
    **dict.fromkeys(["file_name", "filename"], "file_name"), **dict.fromkeys(["file_path", "path"], "file_path"),
    **dict.fromkeys(["mime_type", "content_type", "media_type"], "mime_type"),
    "user_agent": "user_agent", **dict.fromkeys(["mac", "mac_address"], "mac_address"), "ipv6": "ipv6",
    **dict.fromkeys(["host", "hostname"], "hostname"), "slug": "slug", "ssn": "ssn",
    "middle_name": "first_name", "nickname": "user_name", "salutation": "prefix",
    **dict.fromkeys(["reason", "details", "remarks", "explanation", "instructions"], "sentence"),
}

_DEPARTMENTS = ["Sales", "Engineering", "Marketing", "Finance", "Support", "Human Resources", "Operations",
                "Legal", "Procurement", "Research"]
_PRODUCT_WORDS = (
    ["Compact", "Wireless", "Ergonomic", "Classic", "Portable", "Premium", "Organic", "Smart", "Deluxe", "Mini"],
    ["Steel", "Wooden", "Cotton", "Leather", "Ceramic", "Bamboo", "Glass", "Aluminium", "Wool", "Rubber"],
    ["Chair", "Desk Lamp", "Backpack", "Water Bottle", "Headphones", "Keyboard", "Coffee Mug", "Notebook",
     "Umbrella", "Blender", "Monitor Stand", "Phone Case", "Running Shoes", "Jacket", "Toaster", "Cable"],
)


def _product(fake: Any, rng: random.Random) -> str:
    """A product name such as "Portable Bamboo Desk Lamp" (Faker has no product provider)."""
    adjective, material, thing = (rng.choice(words) for words in _PRODUCT_WORDS)
    return f"{adjective} {material} {thing}" if rng.random() < 0.5 else f"{adjective} {thing}"


STRING_HINTS: dict[str, Callable[[Any, random.Random], str]] = {
    "name": lambda f, r: f.name(), "full_name": lambda f, r: f.name(),
    "first_name": lambda f, r: f.first_name(), "given_name": lambda f, r: f.first_name(),
    "firstname": lambda f, r: f.first_name(), "last_name": lambda f, r: f.last_name(),
    "lastname": lambda f, r: f.last_name(), "surname": lambda f, r: f.last_name(),
    "family_name": lambda f, r: f.last_name(), "author": lambda f, r: f.name(),
    "username": lambda f, r: f.user_name(), "user_name": lambda f, r: f.user_name(),
    "login": lambda f, r: f.user_name(), "password": lambda f, r: f.password(),
    "email": lambda f, r: f.email(), "mail": lambda f, r: f.email(),
    "email_address": lambda f, r: f.email(), "phone_number": lambda f, r: f.phone_number(),
    "phone": lambda f, r: f.phone_number(), "telephone": lambda f, r: f.phone_number(),
    "mobile": lambda f, r: f.phone_number(), "city": lambda f, r: f.city(),
    "country": lambda f, r: f.country(), "country_code": lambda f, r: f.country_code(),
    "state": lambda f, r: f.state(), "address": lambda f, r: f.address().replace("\n", ", "),
    "street": lambda f, r: f.street_address(), "street_address": lambda f, r: f.street_address(),
    "zip": lambda f, r: f.postcode(), "zipcode": lambda f, r: f.postcode(),
    "zip_code": lambda f, r: f.postcode(), "postal_code": lambda f, r: f.postcode(),
    "postcode": lambda f, r: f.postcode(), "company": lambda f, r: f.company(),
    "organization": lambda f, r: f.company(), "employer": lambda f, r: f.company(),
    "job": lambda f, r: f.job(), "job_title": lambda f, r: f.job(), "occupation": lambda f, r: f.job(),
    "url": lambda f, r: f.url(), "website": lambda f, r: f.url(), "homepage": lambda f, r: f.url(),
    "link": lambda f, r: f.url(), "domain": lambda f, r: f.domain_name(),
    "description": lambda f, r: f.sentence(), "notes": lambda f, r: f.sentence(),
    "note": lambda f, r: f.sentence(), "comment": lambda f, r: f.sentence(),
    "summary": lambda f, r: f.sentence(), "bio": lambda f, r: f.sentence(),
    "message": lambda f, r: f.sentence(), "text": lambda f, r: f.sentence(),
    "content": lambda f, r: f.sentence(), "title": lambda f, r: f.sentence(nb_words=4).rstrip("."),
    "subject": lambda f, r: f.sentence(nb_words=5).rstrip("."),
    "currency": lambda f, r: f.currency_code(), "currency_code": lambda f, r: f.currency_code(),
    "color": lambda f, r: f.color_name(), "colour": lambda f, r: f.color_name(),
    "language": lambda f, r: f.language_name(), "uuid": lambda f, r: f.uuid4(),
    "guid": lambda f, r: f.uuid4(), "ip": lambda f, r: f.ipv4(), "ip_address": lambda f, r: f.ipv4(),
    **{name: _call(provider) for name, provider in _PROVIDERS.items()},
    **dict.fromkeys(["product", "product_name", "product_title", "item", "item_name", "article_name"], _product),
    **dict.fromkeys(["headline", "book_title", "event_name"], lambda f, r: f.sentence(nb_words=4).rstrip(".")),
    "department": lambda f, r: r.choice(_DEPARTMENTS),
    # Dates come from the seeded rng, not Faker: Faker's date ranges end at "now".
    **dict.fromkeys(["date", "birthdate", "dob", "birthday"], lambda f, r: _date(r)),
    **dict.fromkeys(["timestamp", "datetime"], lambda f, r: f"{_date(r)}T{_clock(r)}"),
    "time": lambda f, r: _clock(r),
}
NUMBER_HINTS: dict[str, Callable[[Any, random.Random], float]] = {
    **dict.fromkeys(["price", "amount", "total", "cost", "subtotal", "balance", "salary", "fee",
                     "tax", "discount", "revenue", "budget"], _money),
    **dict.fromkeys(["quantity", "qty", "count"], lambda f, r: r.randint(1, 10)),
    "age": lambda f, r: r.randint(18, 80), "year": lambda f, r: r.randint(1990, 2025),
    "rating": lambda f, r: r.randint(1, 5), "stars": lambda f, r: r.randint(1, 5),
    "percent": lambda f, r: r.randint(0, 100), "percentage": lambda f, r: r.randint(0, 100),
    "latitude": lambda f, r: round(r.uniform(-90, 90), 6), "lat": lambda f, r: round(r.uniform(-90, 90), 6),
    "longitude": lambda f, r: round(r.uniform(-180, 180), 6),
    "lng": lambda f, r: round(r.uniform(-180, 180), 6), "lon": lambda f, r: round(r.uniform(-180, 180), 6),
    "id": lambda f, r: r.randint(1000, 99999), "score": lambda f, r: r.randint(0, 100),
    "month": lambda f, r: r.randint(1, 12), "day": lambda f, r: r.randint(1, 28),
    "hour": lambda f, r: r.randint(0, 23), "minute": lambda f, r: r.randint(0, 59),
    "temperature": lambda f, r: round(r.uniform(-10, 35), 1),
    **dict.fromkeys(["employees", "headcount"], lambda f, r: r.randint(5, 5000)),
}


_PERSON = {"full", "customer", "user", "person", "contact", "author", "owner", "display", "client",
           "employee", "patient", "student", "member", "account", "holder", "recipient", "sender"}


_QUALIFIED = {  # last words that mislead after most other words: the words they may follow
    "name": _PERSON,
    "address": {"billing", "shipping", "home", "street", "postal", "mailing", "delivery", "customer", "user"},
    "state": {"home", "us", "billing", "shipping"},
    "country": {"home", "billing", "shipping", "origin", "birth"},
    "city": {"home", "billing", "shipping", "birth"},
    "ip": set(), "color": set(), "job": set(), "login": set(), "domain": set(), "link": set(),
}


def hint_for(name: str, table: dict[str, Callable]) -> Callable | None:
    """The generator a property name suggests: whole name first, then its trailing words."""
    words = snake(name).split("_")
    if words[-1] == "at" and table is STRING_HINTS:  # created_at, updated_at, ...
        return table["timestamp"]
    for start in range(len(words)):
        rest = words[start:]
        if start and len(rest) == 1 and rest[0] in _QUALIFIED and words[start - 1] not in _QUALIFIED[rest[0]]:
            return None  # file_name, mac_address, order_state: not what the last word suggests
        found = table.get("_".join(words[start:]))
        if found is not None:
            return found
    return None


_ID_WORDS = {"id", "code", "sku", "number", "num", "no", "ref", "reference"}


def string_maker(name: str) -> Callable[[Any, random.Random], str] | None:
    """What a string property's name suggests: the table above, or else an identifier shape."""
    maker = hint_for(name, STRING_HINTS)
    if maker is None and snake(name).split("_")[-1] in _ID_WORDS:
        return lambda fake, rng: identifier(name, rng)
    return maker


def suggest(maker: Callable[[Any, random.Random], Any], fake: Any, rng: random.Random) -> Any:
    """The maker's value, or None where the Faker locale lacks the provider it calls."""
    try:
        return maker(fake, rng)
    except AttributeError:
        return None


def identifier(name: str, rng: random.Random) -> str:
    """Letters and digits shaped by the name: order_id ORD-48213, sku KXT-4821, code AX42."""
    words = snake(name).split("_")
    stem = next((w for w in reversed(words[:-1]) if w.isalpha() and w not in _ID_WORDS), None)

    def letters(n: int) -> str:
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if words[-1] == "code" and stem is None:
        return letters(2) + digits(2)
    if words[-1] == "sku":
        return f"{letters(3)}-{digits(4)}"
    return f"{stem[:3].upper() if stem else letters(3)}-{digits(rng.randint(4, 6))}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _clock(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


FORMATS: dict[str, Callable[[Any], str]] = {  # each takes the running Draw
    "date": lambda d: _date(d.rng),
    "date-time": lambda d: f"{_date(d.rng)}T{_clock(d.rng)}",
    "time": lambda d: _clock(d.rng),
    "email": lambda d: d.fake.email() if d.fake else f"{d.word()}@example.com",
    "idn-email": lambda d: d.fake.email() if d.fake else f"{d.word()}@example.com",
    "uri": lambda d: d.fake.url() + d.word() if d.fake else f"https://example.com/{d.word()}",
    "iri": lambda d: f"https://example.com/{d.word()}",
    "uri-reference": lambda d: f"/{d.word()}/{d.word()}",
    "iri-reference": lambda d: f"/{d.word()}",
    "uri-template": lambda d: f"https://example.com/{d.word()}/{{id}}",
    "uuid": lambda d: str(uuid.UUID(int=d.rng.getrandbits(128), version=4)),
    "ipv4": lambda d: ".".join(str(d.rng.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda d: ":".join(f"{d.rng.randrange(65536):x}" for _ in range(8)),
    "hostname": lambda d: d.fake.domain_name() if d.fake else f"{d.word()}.example.com",
    "idn-hostname": lambda d: f"{d.word()}.example.com",
    "json-pointer": lambda d: f"/{d.word()}/{d.rng.randint(0, 9)}",
    "relative-json-pointer": lambda d: f"{d.rng.randint(0, 3)}/{d.word()}",
    "regex": lambda d: f"^{d.word()}[0-9]+$",
    "duration": lambda d: f"P{d.rng.randint(1, 30)}D",
    "byte": lambda d: "aGVsbG8gd29ybGQ=",
    "color": lambda d: d.rng.choice(["red", "blue", "green", "#1a2b3c"]),
}
