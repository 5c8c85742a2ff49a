"""The ``tools:`` section of a task file, checked by pydantic (mistakes name the file, line and key)::

    format: tool-calls
    schema: tools.yaml            # the tool set (see formtune_tools.toolset)
    tools:
      dialect: hermes             # hermes | json-list | python | native | any registered dialect
      mix: {simple: 1, multiple: 2, parallel: 1, parallel_multiple: 1, irrelevance: 1, multi_turn: 1}
      distractors: [1, 3]         # other tools offered beside the right ones
      off_topic: [...]            # requests no tool can serve
      contrast: 0.5               # irrelevance turns that twin a call turn, its tool taken away
      general: {tools: other_tools.json, share: 0.3}   # training practice on other tools
      optional: 0.3               # chance that a training call states each optional argument
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

CATEGORIES = ("simple", "multiple", "parallel", "parallel_multiple", "irrelevance", "multi_turn")

OFF_TOPIC = [
    "What's the capital of Australia?", "Can you tell me a joke about cats?",
    "How many minutes are in a day?", "Translate 'good morning' into Spanish.",
    "Write a haiku about the sea.", "What is 17 times 23?", "Who wrote Pride and Prejudice?",
    "Any tips for sleeping better?", "What's a good name for a goldfish?",
    "Explain what a black hole is in one sentence.", "Recommend a movie for tonight.",
    "How do I boil an egg?", "What's the tallest mountain in Europe?",
    "Can you help me with my math homework? What's the square root of 144?",
    "Tell me something interesting about octopuses.", "What day of the week was 1 January 2000?",
]
DECLINES = [
    "Sorry, I can't help with that: none of my tools can do it.",
    "I'm afraid that's outside what I can do with the tools I have.",
    "None of the available tools fits this request, so I can't do it.",
    "I can't do that here; my tools don't cover it.",
]


class Mix(BaseModel):
    """Relative weights of the generated categories (0 leaves a category out)."""

    model_config = ConfigDict(extra="forbid")

    simple: float = Field(1, ge=0, description="one call to the only tool offered")
    multiple: float = Field(1, ge=0, description="one call, the right tool among several")
    parallel: float = Field(1, ge=0, description="several calls of one tool in one turn")
    parallel_multiple: float = Field(1, ge=0, description="several calls of several tools in one turn")
    irrelevance: float = Field(1, ge=0, description="no offered tool fits: answer without calling")
    multi_turn: float = Field(1, ge=0, description="tool results are in: answer, or make the next call")

    @model_validator(mode="after")
    def _some(self) -> Mix:
        if not any(getattr(self, c) for c in CATEGORIES):
            raise ValueError("every category has weight 0; give at least one a positive weight")
        return self


class General(BaseModel):
    """Training conversations built from other tools, so that calling carries over to new tools."""

    model_config = ConfigDict(extra="forbid")

    tools: str = Field(description="A tool set file (OpenAI or MCP definitions), relative to the task file.")
    share: float = Field(0.3, ge=0, le=0.9, description="Share of the training conversations built from them.")


class ToolsOptions(BaseModel):
    """How a tool-calling task writes calls and which conversations it generates."""

    model_config = ConfigDict(extra="forbid")

    dialect: str = Field("hermes", description="How calls are written: hermes, json-list, python, native "
                         "(the model's own chat template lists tools and writes calls; it needs a template "
                         "with tool support), or a dialect another plugin registers (formtune plugins lists them).")
    listing: str = Field("json", pattern="^(json|signatures)$",
                         description="How the prompt lists tools: 'json' (each definition as compact JSON, as "
                         "Hermes and Qwen do) or 'signatures' (typed signatures, about a third of the tokens).")
    offer: str = Field("example", pattern="^(example|all)$",
                       description="'example': each conversation offers its own few tools, listed in its "
                       "system prompt (as BFCL does); 'all': every tool, listed in the task's system prompt.")
    mix: Mix = Field(default_factory=Mix)
    distractors: tuple[int, int] = Field((1, 3), description="How many other tools a conversation offers "
                                         "beside the right ones (least, most).")
    max_parallel: int = Field(3, ge=2, le=8, description="Most calls in one parallel turn.")
    off_topic: list[str] = Field(default_factory=lambda: list(OFF_TOPIC),
                                 description="Requests no tool can serve (irrelevance); even-numbered ones "
                                 "train, odd-numbered ones are held out for evaluation.")
    declines: list[str] = Field(default_factory=lambda: list(DECLINES),
                                description="How the model says no tool fits (irrelevance answers).")
    contrast: float = Field(0.0, ge=0, le=1, description="Share of the training irrelevance turns written "
                            "as the twin of a call turn: the same request, with the called tools taken out of "
                            "the offer, answered without a call, so that the model learns to look at what is "
                            "offered rather than at the request alone.")
    optional: float | None = Field(None, ge=0, le=1, description="Chance that a training call states "
                                   "each optional argument (its request then asks for it); default: the "
                                   "schema sampler's 0.6. A lower share makes the tuned model add fewer arguments "
                                   "nobody asked for, and leave out more that were asked for (benchmarks/"
                                   "RESULTS.md, arm EO). The evaluation split keeps the sampler's default.")
    general: General | None = Field(None, description="Mix in training conversations built from other "
                                    "tools (never evaluated): general tool-calling practice.")
    answer_template: str | None = Field(None, description="A task template that writes the final answer "
                                        "from tool results (multi-turn); default: a generic summary.")

    @model_validator(mode="after")
    def _ranges(self) -> ToolsOptions:
        low, high = self.distractors
        if not 0 <= low <= high:
            raise ValueError("distractors is [least, most] with 0 <= least <= most")
        if len(self.off_topic) < 2:
            raise ValueError("off_topic needs at least 2 requests (one to train on, one to hold out)")
        if not self.declines:
            raise ValueError("declines needs at least one answer")
        return self
