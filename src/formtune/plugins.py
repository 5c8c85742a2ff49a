"""Loading plugins and the one registry that holds their contributions.

Plugins come from the ``formtune`` entry-point group (the builtin ones included) and from local
files given with ``--plugin path.py``. Two environment variables choose among them:

- ``FORMTUNE_PLUGINS=json,acme`` loads only the named entry-point plugins (empty: none);
- ``FORMTUNE_DISABLE_PLUGINS=acme`` blocks the named ones.

Each hook is called through pluggy once per plugin (``subset_hook_caller``), so formtune knows
which plugin registered what, and a hook implementation receives only the arguments it names:
a hook can gain arguments later without breaking plugins written before.

The rest of formtune never calls ``pm.hook`` itself: it asks :func:`get_registry`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from formtune import hookspecs
from formtune.contrib import (
    Augmenter,
    Benchmark,
    Dialect,
    FactExtractor,
    Format,
    Generator,
    Metric,
    RuleEngine,
    TaskOptions,
    ToolSet,
    Validator,
)
from formtune.errors import PluginError

ENTRY_POINT_GROUP = "formtune"
#: What each ``register_<kind>`` hook contributes.
KINDS: dict[str, type] = {"formats": Format, "validators": Validator, "generators": Generator,
                          "metrics": Metric, "task_options": TaskOptions, "tool_sets": ToolSet,
                          "dialects": Dialect, "rule_engines": RuleEngine, "fact_extractors": FactExtractor,
                          "augmenters": Augmenter, "benchmarks": Benchmark}


@dataclass
class Registry:
    """Every contribution by kind and name, with the plugin that made it.

    Plugin metrics are kept under ``<plugin>:<name>``, so two plugins may both have a ``recall``.
    """

    formats: dict[str, Format] = field(default_factory=dict)
    validators: dict[str, Validator] = field(default_factory=dict)
    generators: dict[str, Generator] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    task_options: dict[str, TaskOptions] = field(default_factory=dict)
    tool_sets: dict[str, ToolSet] = field(default_factory=dict)
    dialects: dict[str, Dialect] = field(default_factory=dict)
    rule_engines: dict[str, RuleEngine] = field(default_factory=dict)
    fact_extractors: dict[str, FactExtractor] = field(default_factory=dict)
    augmenters: dict[str, Augmenter] = field(default_factory=dict)
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> plugin
    plugins: list[str] = field(default_factory=list)
    _pm: pluggy.PluginManager | None = field(default=None, repr=False)

    def get(self, kind: str, name: str) -> Any:
        """The contribution ``name`` of ``kind``, or a PluginError listing what exists."""
        things: dict[str, Any] = getattr(self, kind)
        if name not in things:
            known = ", ".join(sorted(things)) or "none"
            raise PluginError(f"no {kind.rstrip('s').replace('_', ' ')} named {name!r} (available: {known})")
        return things[name]

    def metrics_for(self, format_name: str) -> dict[str, Metric]:
        """The plugin metrics that apply to ``format_name``, by qualified name."""
        return {name: m for name, m in self.metrics.items() if not m.formats or format_name in m.formats}

    def task_metrics(self, task: Any) -> dict[str, Metric]:
        """The metrics plugins contribute for ``task`` alone (``register_task_metrics``), by
        qualified name ``<plugin>:<name>``."""
        found: dict[str, Metric] = {}
        if self._pm is None:
            return found
        for owner, call in _per_plugin(self._pm, "register_task_metrics"):
            def register(metric: Metric, owner: str = owner) -> None:
                if not isinstance(metric, Metric):
                    raise PluginError(f"plugin {owner!r} registered {metric!r} as a task metric, but it is not a Metric")
                key = f"{owner}:{metric.name}"
                if key in found or key in self.metrics:
                    raise PluginError(f"plugin {owner!r} registers the metric {key!r} twice")
                found[key] = metric

            call(task=task, register=register)
        return found

    def describe(self) -> list[dict[str, Any]]:
        """Each plugin and what it contributes, for ``formtune plugins``."""
        rows = []
        for plugin in self.plugins:
            contributes = {
                kind: sorted(n for (k, n), owner in self.owners.items() if k == kind and owner == plugin)
                for kind in KINDS
            }
            rows.append({"name": plugin, **contributes})
        return rows

    def describe_formats(self) -> list[dict[str, Any]]:
        """Each format with the validators, generator and metrics a task of it uses by default."""
        return [{"name": name, "plugin": self.owners[("formats", name)], "schema_language": fmt.schema_language,
                 "validators": list(fmt.default_validators), "generator": fmt.default_generator,
                 "metrics": sorted(self.metrics_for(name))}
                for name, fmt in sorted(self.formats.items())]

    def add_commands(self, cli: Any) -> None:
        """Let plugins add commands to the ``formtune`` click group (``register_commands``)."""
        if self._pm is None:
            return
        for owner, call in _per_plugin(self._pm, "register_commands"):
            before = dict(cli.commands)
            call(cli=cli)
            for name, command in cli.commands.items():
                if name in before and before[name] is not command:
                    raise PluginError(f"plugin {owner!r} redefines the command {name!r}; disable it with "
                                      "FORMTUNE_DISABLE_PLUGINS")


def _names(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _load_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise PluginError(f"--plugin {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"formtune_local_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"--plugin {path}: failed to import: {exc}") from exc
    return module


def _per_plugin(pm: pluggy.PluginManager, hook_name: str) -> list[tuple[str, Callable[..., Any]]]:
    """``(plugin name, caller)`` for each plugin implementing ``hook_name``, in registration order.

    Each caller goes through pluggy with every other plugin removed, so pluggy passes only the
    arguments the implementation asks for, exactly as a plain ``pm.hook.<name>(...)`` call would.
    """
    plugins = pm.get_plugins()
    callers = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        others = [p for p in plugins if p is not impl.plugin]
        callers.append((pm.get_name(impl.plugin) or repr(impl.plugin), pm.subset_hook_caller(hook_name, others)))
    return callers


def _check_known_plugins(pm: pluggy.PluginManager, only: set[str] | None, blocked: set[str]) -> None:
    """An allow-list naming a plugin that is not installed is an error (a typo would load nothing)."""
    if not only:
        return
    missing = sorted(only - blocked - {name for name, _ in pm.list_name_plugin()})
    if missing:
        installed = sorted(ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        raise PluginError(f"FORMTUNE_PLUGINS names {', '.join(missing)}, which is not installed "
                          f"(installed: {', '.join(installed) or 'none'})")


def build_registry(local_files: Iterable[Path] = ()) -> Registry:
    """Load the plugins and collect their contributions (fresh, uncached)."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    only, blocked = _names("FORMTUNE_PLUGINS"), _names("FORMTUNE_DISABLE_PLUGINS") or set()
    # Sorted by name so that load order, and so "first registered" messages, are stable.
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in blocked or (only is not None and ep.name not in only) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
        pm.register(plugin, name=ep.name)
    _check_known_plugins(pm, only, blocked)
    for path in local_files:
        pm.register(_load_file(Path(path)), name=str(path))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        known = ", ".join(sorted(h for h in dir(hookspecs) if h.startswith("register_")))
        raise PluginError(f"{exc} (known hooks: {known})") from None

    registry = Registry(plugins=[name for name, _ in pm.list_name_plugin()], _pm=pm)
    for kind, expected in KINDS.items():
        for owner, call in _per_plugin(pm, f"register_{kind}"):
            call(register=_registrar(registry, kind, owner, expected))
    return registry


def _registrar(registry: Registry, kind: str, owner: str, expected: type) -> Callable[[Any], None]:
    """The ``register`` callback one plugin gets for one kind of contribution."""

    def register(thing: Any) -> None:
        if not isinstance(thing, expected):
            raise PluginError(f"plugin {owner!r} registered {thing!r} as one of {kind}, "
                              f"but it is not a {expected.__name__}")
        name = getattr(thing, "name", "")
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {owner!r} registered a {expected.__name__} without a name")
        key = f"{owner}:{name}" if kind == "metrics" else name
        things: dict[str, Any] = getattr(registry, kind)
        if key in things:
            first = registry.owners[(kind, key)]
            raise PluginError(f"{kind.rstrip('s').replace('_', ' ')} {name!r} is registered by both plugin "
                              f"{first!r} and plugin {owner!r}; disable one with FORMTUNE_DISABLE_PLUGINS")
        things[key] = thing
        registry.owners[(kind, key)] = owner

    return register


_cache: dict[tuple[Any, ...], Registry] = {}
_local_files: list[Path] = []


def add_local_plugins(paths: Iterable[Path]) -> None:
    """Make later :func:`get_registry` calls load these plugin files too (``--plugin``)."""
    _local_files.extend(Path(p) for p in paths)


def get_registry() -> Registry:
    """The registry for the current environment, built once per configuration."""
    key = (os.environ.get("FORMTUNE_PLUGINS"), os.environ.get("FORMTUNE_DISABLE_PLUGINS"), tuple(_local_files))
    if key not in _cache:
        _cache[key] = build_registry(_local_files)
    return _cache[key]
