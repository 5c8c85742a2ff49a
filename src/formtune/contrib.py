"""What a plugin contributes: formats, validators, generators, metrics, task options, tool sets,
tool-call dialects, rule engines, fact extractors, augmenters and benchmarks.

These are the types a plugin author implements and the core consumes. A :class:`Format` turns a
completion into a :class:`~formtune.violations.Checked` and a value back into text; validators
add violations; generators feed the dataset; metrics score :class:`Attempt` objects in the
evaluator; :class:`TaskOptions` give a plugin its own validated section of a task file;
:class:`ToolSet` and :class:`Dialect` feed the tool-calling format (the builtin ``tools`` plugin)
with tools that packages ship and with the ways model families write calls;
:class:`RuleEngine` and :class:`FactExtractor` feed the logic rules of a task (the builtin
``rules`` plugin): condition languages, and the facts of an input text that no generator sampled;
:class:`Augmenter` objects vary training inputs without changing their answers;
a :class:`Benchmark` runs any model on a public test suite and scores it the suite's way.

``Format`` is a base class, so that a method added to it later comes with a default and never
breaks a plugin written before. The other contributions are small protocols (any object with the
right attributes will do) or plain dataclasses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from formtune.violations import Checked, Violation

if TYPE_CHECKING:
    import random
    from pathlib import Path

    from formtune.task import Task


class Format:
    """An output format such as JSON, YAML or XML. Subclass it and override what differs.

    The defaults describe a format whose values are JSON-like data (dicts, lists, strings,
    numbers, booleans, None) checked by a JSON Schema: that is what JSON and YAML share. A format
    with its own schema language (XML with XSD) overrides :meth:`load_schema` and
    :meth:`describe_schema` and names its own validators and generator.
    """

    #: The name tasks use in ``format:``.
    name: str = ""
    #: How prompts and messages call it ("JSON", "YAML", "XML"); defaults to the upper-cased name.
    label: str = ""
    #: What its schemas are written in, for prompts ("JSON Schema", "XML Schema (XSD)").
    schema_language: str = "JSON Schema"
    #: Validators a task of this format runs when it names none (``validators:`` in the task).
    default_validators: tuple[str, ...] = ("json-schema",)
    #: Generator a task of this format uses when it names none (``data.generator``).
    default_generator: str = "schema-sampler"

    def for_task(self, task: Task) -> Format:
        """This format as ``task`` uses it. A format whose reading and writing depend on the task's
        own options (the tool-call dialect a task picks) returns a configured copy; most return
        ``self``. Called once per task, when the task's format is first needed."""
        return self

    # -- reading and writing ----------------------------------------------------------------

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        """Parse a whole completion into a value.

        Strict parsing accepts exactly one document and nothing else (surrounding whitespace
        aside). With ``lenient`` the format may extract a document from code fences or prose and
        must then set ``Checked.lenient``. A text that does not parse is a ``Checked`` with a
        ``"parse"`` violation, never an exception, whatever the input (bound depth and size).
        """
        raise NotImplementedError(f"format {self.name!r} does not implement parse()")

    def render(self, value: Any) -> str:
        """The exact text a model should emit for ``value``; ``parse(render(v))`` gives back ``v``."""
        raise NotImplementedError(f"format {self.name!r} does not implement render()")

    # -- the task's schema ------------------------------------------------------------------

    def load_schema(self, ref: str | dict[str, Any] | bool, task: Task) -> Any:
        """The task's schema from its ``schema:`` entry: a file relative to the task, an inline
        schema, or a pydantic model as ``"module:Class"``. Raise :class:`~formtune.errors.SchemaError`
        when it cannot be used, so a broken schema stops a task before any work. The default reads
        a JSON Schema and checks it (its draft, and that every ``$ref`` resolves offline)."""
        from formtune.schema.compile import compile_schema
        from formtune.schema.load import load_json_schema

        schema = load_json_schema(ref, task.base_dir)
        compile_schema(schema, base_dir=task.base_dir)
        return schema

    def describe_schema(self, task: Task) -> str:
        """The schema as it is shown to an untuned model in the evaluator's full prompt."""
        return json.dumps(task.schema, ensure_ascii=False)

    def instructions(self, task: Task) -> str:
        """The short system prompt of training rows and of the tuned model: the task's
        instructions. A format whose output depends on more (the tools a model may call) adds it."""
        return task.spec.instructions

    def prompt(self, task: Task) -> str:
        """The full prompt an untuned model needs: the task's instructions, the schema and the
        rules of output (the tuned model gets the instructions alone)."""
        label = self.label or self.name.upper()
        return (f"{self.instructions(task)}\n\nAnswer with exactly one {label} document that matches this "
                f"{self.schema_language}, and nothing else (no code fences, no explanations):\n"
                f"{self.describe_schema(task)}")

    # -- the conversation a model sees -------------------------------------------------------

    def conversation(self, task: Task, input: Any, output_text: str | None = None, *,
                     system: str | None = None) -> dict[str, Any]:
        """One example as a chat row in TRL's shape, for training (with ``output_text``, the
        completion) and for generation (without it): ``{"messages": [...]}``, plus
        ``{"tools": [...]}`` (OpenAI function definitions) for a format whose calls the model's own
        chat template writes. ``system`` defaults to :meth:`instructions`; the evaluator passes
        :meth:`prompt` for an untuned model. The default is
        :func:`formtune.conversation.chat_messages`: the system prompt, the input's turns, the answer."""
        from formtune.conversation import chat_messages

        return {"messages": chat_messages(self.instructions(task) if system is None else system, input, output_text)}

    def completion_reader(self, task: Task, tokenizer: Any) -> Callable[[str], str] | None:
        """A function that turns what a model wrote into this format's own text before it is
        checked, or ``None`` (the default) when models write the format's text themselves.

        A format whose completions the model's chat template writes (tool calls in the model's
        own syntax) reads them back here; the function raises ``ValueError`` for a text that is
        broken in that syntax, and the evaluator counts it as a parse failure."""
        return None

    # -- comparing values -------------------------------------------------------------------

    def canonical(self, value: Any) -> Any:
        """A form of ``value`` in which equal documents compare equal (exact match). The default
        ignores key order and treats ``3`` and ``3.0`` as the same number."""
        return _canonical_data(value)

    def fields(self, value: Any) -> set[tuple[str, str]]:
        """``(path, normalized leaf)`` pairs, the units of field precision, recall and F1. The
        default gives JSON-pointer paths to every scalar; empty containers count as leaves."""
        return _json_leaves(value)

    # -- constrained decoding ---------------------------------------------------------------

    def constraint(self, task: Task) -> DecodingConstraint | None:
        """A decoding constraint that only admits documents of ``task``'s schema, or ``None`` when
        this format cannot constrain decoding for this task: the evaluator then reports it
        "unconstrained only"."""
        return None

    def viable(self, text: str) -> bool:
        """Whether a partial completion can still grow into exactly one valid document.

        The evaluator stops a row as soon as this is false (an untuned model opening with "Sure!"
        is hopeless), which saves most of its time. Only answer false when no continuation can
        parse strictly; the default never does.
        """
        return True


#: What a format's extractor returns when a text holds no document (``None`` is a JSON value).
NOT_FOUND: Any = object()


def parse_document(text: str, *, lenient: bool, read: Callable[[str], Any], rejected: type[Exception], what: str,
                   extract: Callable[[str], Any]) -> Checked:
    """The parse that data formats share, for their :meth:`Format.parse`: ``read`` the whole text
    as exactly one document; when that raises ``rejected``, a lenient task tries ``extract`` (a
    document in code fences or prose, or :data:`NOT_FOUND`) and marks a success lenient. The
    strict failure is the ``"parse"`` violation "not a single <what>: <error>", at the error's
    ``path`` when it has one."""
    try:
        return Checked(text=text, value=read(text), parsed=True)
    except rejected as exc:
        error = Violation(getattr(exc, "path", ""), f"not a single {what}: {exc}", "parse")
    if lenient:
        found = extract(text)
        if found is not NOT_FOUND:
            return Checked(text=text, value=found, parsed=True, lenient=True)
    return Checked(text=text, violations=[error])


@dataclass(frozen=True)
class DecodingConstraint:
    """What a format offers for constrained decoding.

    ``output_type`` is an outlines output type (``outlines.types.JsonSchema``, ``Regex`` or
    ``CFG``). ``notes`` say where the constraint is looser or tighter than the schema (bounds it
    cannot enforce, strings it caps so that they end); the evaluator reports them.
    """

    output_type: Any
    notes: tuple[str, ...] = ()


def _canonical_data(value: Any) -> Any:
    """Key order ignored and ``3 == 3.0``, but ``true`` never equals ``1`` (Python says it does,
    so scalars are tagged with their JSON type)."""
    if isinstance(value, dict):
        return {str(k): _canonical_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical_data(v) for v in value]
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    return ("string", str(value))


def _json_leaves(value: Any, path: str = "") -> set[tuple[str, str]]:
    if isinstance(value, dict) and value:
        return {pair for key, child in value.items()
                for pair in _json_leaves(child, f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}")}
    if isinstance(value, (list, tuple)) and value:
        return {pair for i, child in enumerate(value) for pair in _json_leaves(child, f"{path}/{i}")}
    return {(path, repr(_canonical_data(value)))}


@runtime_checkable
class Validator(Protocol):
    """A check of a parsed value against a task; violations are returned, never raised.

    A task runs the validators it names (``validators:``), by default those of its format, so
    installing a plugin never changes what another task accepts.
    """

    name: str
    formats: tuple[str, ...]  # the formats it applies to; empty means every format

    def validate(self, value: Any, task: Task) -> list[Violation]:
        """The violations of ``value`` under ``task`` (empty when it is fine)."""
        ...


@dataclass
class Draft:
    """A candidate training example from a generator, before validation.

    ``input`` may be left ``None``: the task's input templates then write it from ``output``.
    """

    output: Any
    input: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """A deterministic source of candidate examples.

    ``draft(task, seed=s, index=i)`` must return the same draft for the same arguments, so an
    interrupted dataset build resumes exactly where it stopped.
    """

    name: str

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        """The ``index``-th candidate of the stream seeded by ``seed``."""
        ...


@dataclass
class Attempt:
    """One model output on one evaluation example, as metrics see it."""

    input: str
    checked: Checked
    expected: Any = None  # the reference value, when the example has one
    task: Task | None = None  # the task being evaluated (its format, schema and options)
    meta: dict[str, Any] = field(default_factory=dict)  # the example's provenance (what its generator noted)


@dataclass(frozen=True)
class Metric:
    """A named score in [0, 1] per attempt (``None`` when it does not apply), averaged per variant.

    A plugin's metric is reported as ``<plugin>:<name>``, so two plugins' names never clash; the
    core's own metrics (``parse_rate``, ``schema_valid``, ``field_f1`` …) have no prefix.
    """

    name: str
    score: Callable[[Attempt], float | None]
    description: str = ""
    formats: tuple[str, ...] = ()  # the formats it applies to; empty means every format
    higher_is_better: bool = True
    group: str = ""  # metrics of one group ("adherence per rule") are reported together, as a breakdown


@dataclass(frozen=True)
class TaskOptions:
    """A plugin's own section of a task file, checked by ``model`` (a pydantic model).

    With ``TaskOptions("xml", XmlOptions)`` a task may carry an ``xml:`` mapping; a mistake in it
    is reported with the task file, the line and the key, and the plugin reads the checked value
    with ``task.options("xml")`` (the model's defaults when the section is absent).
    """

    name: str
    model: type[BaseModel]
    description: str = ""


@dataclass(frozen=True)
class ToolSet:
    """A named set of tools that a package ships, for tasks to use by name.

    ``tools`` holds the definitions (or a function returning them, so that nothing is read before a
    task asks): OpenAI function definitions, MCP tool definitions or Python functions with type
    hints. The tool-calling format checks them when a task uses the set, naming the set and the tool.
    """

    name: str
    tools: Sequence[Any] | Callable[[], Sequence[Any]]
    description: str = ""


@runtime_checkable
class Dialect(Protocol):
    """How one model family writes tool calls in plain text, for templates without tool support.

    A call is ``{"name": str, "arguments": dict}``. ``render`` writes calls as the model should
    emit them, ``parse`` reads them back (``None`` when the text is no call at all, i.e. a plain
    answer; ``ValueError`` when it is a broken call), so ``parse(render(calls)) == calls``.
    ``describe_tools`` lists the tools a conversation offers, as the system prompt shows them.
    """

    name: str
    description: str

    def describe_tools(self, tools: list[dict[str, Any]]) -> str:
        """The offered tools (``{"name", "description", "parameters"}``) as the prompt shows them."""
        ...

    def render(self, calls: list[dict[str, Any]]) -> str:
        """The exact text of these calls (one or several in one turn)."""
        ...

    def parse(self, text: str) -> list[dict[str, Any]] | None:
        """The calls in a whole completion, ``None`` for a plain answer; raises ValueError if broken."""
        ...


class RuleSyntaxError(ValueError):
    """A condition a rule engine cannot compile: it does not parse, names an unknown fact, or
    compares values of different types. ``column`` (1-based) points into the condition's source
    when the engine knows where, so that the error names the file, the rule and the position."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.column = message, column


@runtime_checkable
class Condition(Protocol):
    """A compiled rule condition: what it reads and whether it holds for some facts."""

    names: frozenset[str]  # the facts (or answer fields) it reads
    #: Per name, the constants it is compared with (``amount > 250`` gives ``{"amount": {250}}``;
    #: ``today - delivered > 30`` gives 30 for both): boundary values are drawn around them.
    constants: Mapping[str, frozenset[Any]]

    def evaluate(self, facts: Mapping[str, Any]) -> bool:
        """Whether the condition holds; ``facts`` maps every name it reads to a value."""
        ...


@runtime_checkable
class RuleEngine(Protocol):
    """A condition language for logic rules (a task's rule set names its engine).

    ``compile(source, names)`` turns one rule's ``when`` into a :class:`Condition`. ``names`` maps
    every name a condition may read to its type (``"number"``, ``"integer"``, ``"date"``,
    ``"string"`` or ``"boolean"``). Raise :class:`RuleSyntaxError` for a condition that does not
    parse, reads an unknown name or mixes types. Evaluating must be safe on any input: no ``eval``.
    """

    name: str

    def compile(self, source: Any, names: Mapping[str, str]) -> Condition:
        """The compiled condition, or :class:`RuleSyntaxError`."""
        ...


@dataclass(frozen=True)
class FactExtractor:
    """Reads the facts of an input that no generator sampled (real, imported data).

    ``extract(input)`` returns a mapping of fact names to values (dates as ``datetime.date`` or ISO
    strings) or ``None`` when the input does not state them; a task's rule set names the extractor
    it uses. Facts of generated examples come from their provenance instead.
    """

    name: str
    extract: Callable[[Any], Mapping[str, Any] | None]
    description: str = ""


@runtime_checkable
class Augmenter(Protocol):
    """A change to a training input that never changes its answer: a greeting, a quoted reply
    chain, line-break noise, typos.

    A task names the augmenters it wants and how often (``data.augment: {typos: 0.2}``); they
    apply to training inputs only, in the order the task lists them. ``keep`` holds the answer's
    values that appear verbatim in ``text``: each must still appear verbatim in what ``augment``
    returns (:func:`formtune.keep.outside` edits only the text between them). The dataset
    builder checks this and the task's validators re-check the answer, so an augmenter that
    breaks the rule costs a rejected candidate, never a wrong training row.
    """

    name: str
    description: str

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Task) -> str:
        """``text`` changed; the same ``rng`` state gives the same change."""
        ...


@dataclass
class BenchmarkResult:
    """What a benchmark says of one model: its headline ``score`` (0 to 1, as the suite defines
    it), the number of items ``n``, failures by class (``errors``) and one JSON-ready row per item
    (``answers``: its id, what the model wrote, whether it was right), kept for inspection."""

    score: float
    n: int
    errors: dict[str, int] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class Benchmark(Protocol):
    """A public test suite that any model can be run on: ``formtune eval --benchmark NAME --data SOURCE``.

    The benchmark reads its own source (one category file of a public suite, say), prompts the
    model as the suite expects and scores it the suite's way, so that its score compares with
    published ones.
    It loads the model itself (:func:`formtune.train.load_tuned`) because a suite may need its own
    decoding. ``task`` is the task of the run being evaluated, or None: a tuned model should be
    prompted as it was trained. ``adapter`` is None for the untuned (base) model.
    """

    name: str
    description: str

    def run(self, source: Path, *, model: str | None, adapter: Path | None, task: Task | None,
            limit: int | None, batch_size: int, progress: bool) -> BenchmarkResult:
        """Answer and score the suite's items (the first ``limit`` when given)."""
        ...


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any parts (``hash()`` of a str changes between processes)."""
    import hashlib

    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
