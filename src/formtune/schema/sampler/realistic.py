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
