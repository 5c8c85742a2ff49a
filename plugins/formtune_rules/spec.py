"""The ``rules:`` section of a task file, checked by pydantic (file, line and key on a mistake).

    rules:
      engine: expr                      # a registered rule engine (default: expr)
      facts:                            # the input facts, typed
        today: {type: date, min: 2025-01-06, max: 2025-12-19}
        delivered: {type: date, relative_to: today, min: -60, max: 0}   # days from today
        amount: {type: number, min: 5, max: 600, step: 0.01}
        account: {type: enum, values: [personal, business]}
      rules:                            # highest priority first
        - id: return-window
          when: today - delivered > 30
          then: {decision: deny}
      default: {decision: approve}      # every field a rule may set
      style:                            # checks of text fields (or the whole completion)
        - {id: reply-length, field: /reply, length: {min: 40, max: 240}}
      fields:                           # answer fields no rule decides, written by templates
        reply: {file: reply.j2}
      holdout_branches: ["return-window + manager-approval"]

Or ``rules: {file: refund.rules.yaml}`` with the same keys in that file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RULE_ID = r"^[A-Za-z0-9][\w.-]*$"


class FactSpec(BaseModel):
    """One input fact: its type and the values it may take."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["number", "integer", "enum", "boolean", "date"]
    values: list[str] | None = Field(None, description="enum: the values it may take.")
    min: float | dt.date | None = Field(None, description="Smallest value (for a relative date: days from its reference).")
    max: float | dt.date | None = Field(None, description="Largest value (for a relative date: days from its reference).")
    step: float | None = Field(None, description="number: its resolution (0.01 for money; the default).")
    relative_to: str | None = Field(None, description="date: another date fact that min and max count days from.")
    description: str = ""

    @model_validator(mode="after")
    def _complete(self) -> FactSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum fact needs 'values'")
        if self.type != "enum" and self.values is not None:
            raise ValueError(f"'values' is for enum facts, not {self.type}")
        if self.type in ("number", "integer", "date"):
            if self.min is None or self.max is None:
                raise ValueError(f"a {self.type} fact needs 'min' and 'max'")
            dated = self.type == "date" and self.relative_to is None
            for bound in (self.min, self.max):
                if isinstance(bound, dt.date) != dated:
                    raise ValueError("min and max of a date fact are dates (days when it has 'relative_to')"
                                     if self.type == "date" else f"min and max of a {self.type} fact are numbers")
            if self.min > self.max:  # type: ignore[operator]
                raise ValueError("'min' is larger than 'max'")
        if self.relative_to is not None and self.type != "date":
            raise ValueError("'relative_to' is for date facts")
        if self.step is not None and (self.type != "number" or self.step <= 0):
            raise ValueError("'step' is a positive resolution of a number fact")
        return self


class RuleSpec(BaseModel):
    """A logic rule: when its condition holds (and no higher rule decided a field), it sets fields."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=RULE_ID)
    when: Any = Field(description="The condition, in the rule set's engine (a string for expr).")
    then: dict[str, Any] = Field(min_length=1, description="The answer fields it sets and their values.")
    description: str = ""


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


class StyleSpec(BaseModel):
    """A style rule: checks of one text field of the answer (or of the whole completion)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=RULE_ID)
    field: str = Field("", description="JSON pointer of the text field ('/reply'); '' is the whole completion.")
    when: Any = Field(None, description="Only when this condition holds (it may read facts and decided fields).")
    length: Bounds | None = Field(None, description="Bounds on the number of characters.")
    words: Bounds | None = Field(None, description="Bounds on the number of words.")
    required: list[str] = Field(default_factory=list, description="Phrases that must appear (case-insensitive).")
    forbidden: list[str] = Field(default_factory=list, description="Phrases that must not appear (case-insensitive).")
    tone: Literal["formal", "casual"] | None = Field(None, description="Register: formal forbids contractions, "
                                                     "slang and '!'; casual forbids stiff formulas.")
    language: str | None = Field(None, description="ISO 639-1 code the text must be written in ('en').")
    emoji: bool | None = Field(None, description="false: no emoji.")

    @model_validator(mode="after")
    def _something(self) -> StyleSpec:
        if not (self.length or self.words or self.required or self.forbidden or self.tone or self.language
                or self.emoji is not None):
            raise ValueError(f"style rule {self.id!r} checks nothing; give length, words, required, forbidden, "
                             "tone, language or emoji")
        return self


class TemplateRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one(self) -> TemplateRef:
        if (self.text is None) == (self.file is None):
            raise ValueError("give exactly one of 'text' or 'file'")
        return self


class RuleSetSpec(BaseModel):
    """A task's rule set (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    engine: str = Field("expr", description="The registered rule engine the conditions are written for.")
    facts: dict[str, FactSpec] = Field(min_length=1)
    rules: list[RuleSpec] = Field(min_length=1, description="Logic rules, highest priority first.")
    default: dict[str, Any] = Field(description="The answer when no rule applies: every field a rule may set.")
    style: list[StyleSpec] = Field(default_factory=list)
    fields: dict[str, TemplateRef] = Field(default_factory=dict, description="Answer fields no rule decides, "
                                           "written by a Jinja2 template from 'facts' and 'answer'.")
    state: str | None = Field(None, description="An answer field (an object) in which the answer first states "
                              "the facts it read, relative dates as days before their reference; the decided "
                              "fields follow from them, so a small model reads first, then decides.")
    state_dates: bool = Field(False, description="With 'state': a relative date is also stated as a date (ISO), "
                              "after its reference date and before the day count, so that a message giving "
                              "dates is read (dates rewritten) before the days are counted.")
    state_windows: bool = Field(False, description="With 'state_dates': where the input gives a relative date "
                                "as a date only (its template calls told('delivered', 'date')), the answer states, "
                                "in place of the day count, that date plus each number of days the rules compare "
                                "the count with ('delivered_plus_30'), then that date's parts beside the reference's "
                                "('delivered_plus_30_vs_today': 'months 10 11'), so that a small model compares "
                                "two dates part by part instead of subtracting them.")
    state_working: bool = Field(False, description="With 'state_dates': where the input gives a relative date "
                                "as a date only (its template calls told('delivered', 'date')), the answer works the "
                                "day count out before stating it, month by month, one sum a step "
                                "('delivered_to_today': '05: 31 - 25 = 6, 06: 6 + 30 = 36, 07: 36 + 11 = 47'), so "
                                "that a small model counts the days between two dates in steps it can do. Relative "
                                "dates must lie before their reference (max: 0).")
    state_quotes: bool = Field(False, description="With 'state': where an input template marks the words that "
                               "give a fact ({{ said('amount', text) }} writes the text and marks it), the answer "
                               "quotes those words just before stating the fact ('amount_quote': 'fifty euros and "
                               "four cents', then 'amount': 50.04), so that a small model first finds the words, "
                               "then rewrites them. The quotes are not judged; the facts are. The answer's schema "
                               "needs a string property '<fact>_quote' for each quoted fact.")
    state_rules: str | None = Field(None, description="An answer field (an object) in which the answer states, "
                                    "after the facts and before the decided fields, whether each logic rule holds "
                                    "({rule id: true or false}, highest priority first); the decided fields then "
                                    "follow from it by priority, and each answer shows the rules it applied.")
    holdout_branches: list[str] = Field(default_factory=list, description="Branches kept out of training "
                                        "entirely (evaluation only): does the model learn the rule or the examples?")
    boundary_share: float = Field(0.4, ge=0, le=1, description="Share of generated examples drawn from boundary "
                                  "values (a threshold, one step under and over it).")
    extractor: str | None = Field(None, description="A registered fact extractor for inputs no generator wrote.")

    @model_validator(mode="after")
    def _unique(self) -> RuleSetSpec:
        ids = [r.id for r in self.rules] + [s.id for s in self.style]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(dupes)}")
        if "default" in ids:
            raise ValueError("'default' is the name of the default answer; give the rule another id")
        return self


class RulesOptions(RuleSetSpec):
    """The ``rules:`` section: a rule set inline, or ``file:`` naming a YAML file that holds one."""

    file: str | None = Field(None, description="A YAML file (relative to the task) holding the rule set "
                             "(then give nothing else here).")
    facts: dict[str, FactSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list, description="Logic rules, highest priority first.")
    default: dict[str, Any] = Field(default_factory=dict, description="The answer when no rule applies: every "
                                    "field a rule may set.")

    @model_validator(mode="after")
    def _inline_or_file(self) -> RulesOptions:
        others = sorted(self.model_fields_set - {"file"})
        if self.file is not None and others:
            raise ValueError(f"give the rule set either in 'file' or inline, not both ({', '.join(others)})")
        if self.file is None:
            missing = [k for k in ("facts", "rules", "default") if not getattr(self, k)]
            if missing:
                raise ValueError(f"a rule set needs {', '.join(missing)} (or 'file' naming a YAML file with them)")
        return self
