"""Loading plugins and the one registry that holds their contributions.

Plugins come from the ``formtune`` entry-point group (the builtin ones included) and from local
files given with ``--plugin path.py``. Two environment variables choose among them:

- ``FORMTUNE_PLUGINS=json,acme`` loads only the named entry-point plugins (empty: none);
- ``FORMTUNE_DISABLE_PLUGINS=acme`` blocks the named ones.

The rest of formtune never calls ``pm.hook`` itself: it asks :func:`get_registry`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from formtune import hookspecs
from formtune.contrib import Format, Generator, Metric, Validator
from formtune.errors import PluginError

ENTRY_POINT_GROUP = "formtune"
KINDS = {"formats": Format, "validators": Validator, "generators": Generator, "metrics": Metric}


@dataclass
class Registry:
    """Every contribution by kind and name, with the plugin that made it."""

    formats: dict[str, Format] = field(default_factory=dict)
    validators: dict[str, Validator] = field(default_factory=dict)
    generators: dict[str, Generator] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> plugin
    plugins: list[str] = field(default_factory=list)

    def get(self, kind: str, name: str) -> Any:
        """The contribution ``name`` of ``kind``, or a PluginError listing what exists."""
        things: dict[str, Any] = getattr(self, kind)
        if name not in things:
            known = ", ".join(sorted(things)) or "none"
            raise PluginError(f"no {kind[:-1]} named {name!r} (available: {known})")
        return things[name]

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
    for path in local_files:
        pm.register(_load_file(Path(path)), name=str(path))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc} (known hooks: "
                          f"{', '.join(sorted(h for h in dir(hookspecs) if h.startswith('register_')))})") from None

    registry = Registry(plugins=[name for name, _ in pm.list_name_plugin()])
    for kind, expected in KINDS.items():
        hook = getattr(pm.hook, f"register_{kind}")
        for impl in hook.get_hookimpls():
            owner = pm.get_name(impl.plugin) or repr(impl.plugin)

            def register(thing: Any, *, _kind: str = kind, _owner: str = owner, _type: type = expected) -> None:
                if not isinstance(thing, _type):
                    raise PluginError(f"plugin {_owner!r} registered {thing!r} as one of {_kind}, "
                                      f"but it is not a {_type.__name__}")
                things: dict[str, Any] = getattr(registry, _kind)
                if thing.name in things:
                    first = registry.owners[(_kind, thing.name)]
                    raise PluginError(f"{_kind[:-1]} {thing.name!r} is registered by both plugin "
                                      f"{first!r} and plugin {_owner!r}; disable one with "
                                      f"FORMTUNE_DISABLE_PLUGINS")
                things[thing.name] = thing
                registry.owners[(_kind, thing.name)] = _owner

            impl.function(register=register)
    return registry


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
