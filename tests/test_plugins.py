"""The plugin engine: entry-point loading, blocking, local files, clashes and misspellings."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_formtune
from formtune.errors import PluginError
from formtune.plugins import KINDS, build_registry

ACME = Path(__file__).parent / "fixtures" / "acme_plugin"
PERSON = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
#: The plugins this distribution registers itself, whatever they are.
BUILTINS = sorted(ep.name for ep in importlib.metadata.entry_points(group="formtune"))


def install(site: Path, name: str, module: str) -> Path:
    """Lay out an installed distribution by hand (a module and a dist-info with one entry point in
    the ``formtune`` group), as pip would; ``site`` then goes on ``sys.path`` or ``PYTHONPATH``."""
    (site / f"formtune_{name}").mkdir(parents=True)
    (site / f"formtune_{name}" / "__init__.py").write_text(module)
    info = site / f"formtune_{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: formtune-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[formtune]\n{name} = formtune_{name}\n")
    return site


# Registers a validator under the name acme's validator already has.
RIVAL = """
from formtune import hookimpl, Metric
from formtune.violations import Violation

class Rival:
    name = "acme-no-empty-strings"
    formats = ()

    def validate(self, value, task):
        return []

@hookimpl
def register_validators(register):
    register(Rival())
"""


@pytest.fixture(scope="module")
def acme_site(tmp_path_factory) -> Path:
    """The acme plugin installed as a real distribution (dist-info with an entry point)."""
    source = tmp_path_factory.mktemp("acme-src") / "acme"
    shutil.copytree(ACME, source)
    target = tmp_path_factory.mktemp("acme-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    assert list(target.glob("formtune_acme-*.dist-info"))
    return target


def test_builtin_plugins_come_from_the_entry_points():
    registry = build_registry()
    assert {"json", "jsonschema"} <= set(registry.plugins)
    assert registry.owners[("formats", "json")] == "json"
    assert registry.owners[("validators", "json-schema")] == "jsonschema"
    assert registry.owners[("generators", "schema-sampler")] == "jsonschema"


def test_environment_limits_and_blocks_plugins(monkeypatch):
    monkeypatch.setenv("FORMTUNE_DISABLE_PLUGINS", "json")
    assert "json" not in build_registry().plugins
    monkeypatch.delenv("FORMTUNE_DISABLE_PLUGINS")
    monkeypatch.setenv("FORMTUNE_PLUGINS", "")
    assert build_registry().plugins == []


def test_third_party_distribution_is_used_through_the_cli(acme_site, tmp_path):
    env = {"PYTHONPATH": str(acme_site)}
    listed = run_formtune("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    acme = next(p for p in json.loads(listed.stdout)["plugins"] if p["name"] == "acme")
    assert acme["validators"] == ["acme-no-empty-strings"] and acme["metrics"] == ["acme:short"]
    [json_format] = [f for f in json.loads(listed.stdout)["formats"] if f["name"] == "json"]
    assert json_format["metrics"] == ["acme:short"] and json_format["validators"] == ["json-schema"]

    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(PERSON))
    empty = tmp_path / "empty.json"
    empty.write_text('{"name": ""}')
    # Installing a plugin changes nothing by itself: a task (here, the command) opts in to its validator.
    plain = run_formtune("validate", "--schema", str(schema), str(empty), env=env)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    result = run_formtune("validate", "--json", "--schema", str(schema), "--validator", "json-schema",
                          "--validator", "acme-no-empty-strings", str(empty), env=env)
    assert result.returncode == 1
    [report] = json.loads(result.stdout)
    assert report["errors"] == [{"path": "/name", "message": "empty string (acme policy)"}]

    blocked = run_formtune("validate", "--schema", str(schema), "--validator", "acme-no-empty-strings", str(empty),
                           env={**env, "FORMTUNE_DISABLE_PLUGINS": "acme"})
    assert blocked.returncode == 2 and "no validator named 'acme-no-empty-strings'" in blocked.stderr


def test_local_plugin_file_with_a_clashing_name_names_both(tmp_path):
    clash = tmp_path / "clash.py"
    clash.write_text(
        "from formtune import hookimpl\n"
        "from formtune_json.format import JsonFormat\n"
        "@hookimpl\n"
        "def register_formats(register):\n"
        "    register(JsonFormat())\n")
    result = run_formtune("--plugin", str(clash), "plugins")
    assert result.returncode == 2
    assert "format 'json' is registered by both plugin 'json' and plugin" in result.stderr
    assert str(clash) in result.stderr and "Traceback" not in result.stderr


def test_misspelled_hook_fails_loudly(tmp_path):
    typo = tmp_path / "typo.py"
    typo.write_text("from formtune import hookimpl\n@hookimpl\ndef register_formatz(register):\n    pass\n")
    with pytest.raises(PluginError, match="register_formatz"):
        build_registry([typo])


def test_registering_the_wrong_type_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from formtune import hookimpl\n@hookimpl\ndef register_metrics(register):\n"
                   "    register('not a metric')\n")
    with pytest.raises(PluginError, match="is not a Metric"):
        build_registry([bad])


def test_two_entry_point_plugins_with_one_name_name_both(acme_site, tmp_path, monkeypatch):
    rival = install(tmp_path / "site", "rival", RIVAL)
    env = {"PYTHONPATH": f"{acme_site}{os.pathsep}{rival}"}
    message = ("validator 'acme-no-empty-strings' is registered by both plugin 'acme' and plugin 'rival'; "
               "disable one with FORMTUNE_DISABLE_PLUGINS")
    clash = run_formtune("plugins", env=env)
    assert clash.returncode == 2 and clash.stderr == f"ERROR: {message}\n"
    validate = run_formtune("validate", "--schema", "s.json", "x.json", env=env)
    assert validate.returncode == 2 and validate.stderr == f"ERROR: {message}\n"
    disabled = run_formtune("plugins", "--json", env={**env, "FORMTUNE_DISABLE_PLUGINS": "rival"})
    assert disabled.returncode == 0, disabled.stderr
    assert [p["name"] for p in json.loads(disabled.stdout)["plugins"]] == ["acme", *BUILTINS]

    monkeypatch.syspath_prepend(str(acme_site))
    monkeypatch.syspath_prepend(str(rival))
    with pytest.raises(PluginError) as err:
        build_registry()
    assert str(err.value) == message


def test_the_allow_list_loads_only_the_named_plugins(acme_site, tmp_path):
    env = {"PYTHONPATH": str(acme_site)}

    def loaded(value: str) -> list[str]:
        listed = run_formtune("plugins", "--json", env={**env, "FORMTUNE_PLUGINS": value})
        assert listed.returncode == 0, listed.stderr
        return [p["name"] for p in json.loads(listed.stdout)["plugins"]]

    assert loaded("json,jsonschema") == ["json", "jsonschema"]
    assert loaded(" jsonschema , json ") == ["json", "jsonschema"]
    assert loaded("acme,json,jsonschema") == ["acme", "json", "jsonschema"]
    unknown = run_formtune("plugins", env={**env, "FORMTUNE_PLUGINS": "json,nope"})
    assert unknown.returncode == 2
    assert unknown.stderr == "ERROR: FORMTUNE_PLUGINS names nope, which is not installed " \
                             f"(installed: {', '.join(sorted(['acme', *BUILTINS]))})\n"
    # A plugin left out is not there for tasks either: here the format itself is gone.
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(PERSON))
    doc = tmp_path / "d.json"
    doc.write_text('{"name": "x"}')
    no_json = run_formtune("validate", "--schema", str(schema), str(doc), env={**env, "FORMTUNE_PLUGINS": "jsonschema"})
    assert no_json.returncode == 2 and "no format named 'json'" in no_json.stderr
    # Local plugin files are loaded whatever the allow-list says.
    local = tmp_path / "local.py"
    local.write_text("")
    with_file = run_formtune("--plugin", str(local), "plugins", "--json", env={**env, "FORMTUNE_PLUGINS": "json"})
    assert [p["name"] for p in json.loads(with_file.stdout)["plugins"]] == ["json", str(local)]


def test_metrics_of_two_plugins_with_one_name_are_told_apart(tmp_path):
    files = []
    for name, value in (("one", 0.25), ("two", 0.75)):
        files.append(tmp_path / f"{name}.py")
        files[-1].write_text("from formtune import hookimpl, Metric\n@hookimpl\ndef register_metrics(register):\n"
                             f"    register(Metric('score', lambda a: {value}))\n")
    registry = build_registry(files)
    theirs = {name: m for name, m in registry.metrics.items() if registry.owners[("metrics", name)] in map(str, files)}
    assert {name: m.score(None) for name, m in theirs.items()} == {
        f"{files[0]}:score": 0.25, f"{files[1]}:score": 0.75}
    assert registry.owners[("metrics", f"{files[1]}:score")] == str(files[1])


def test_plugins_add_commands_but_cannot_redefine_one(tmp_path):
    hello = install(tmp_path / "a", "hello", """
import click
from formtune import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command()
    @click.argument("name")
    def hello(name):
        \"\"\"Say hello.\"\"\"
        click.echo(f"hello {name}")
""")
    result = run_formtune("hello", "Ada", env={"PYTHONPATH": str(hello)})
    assert result.returncode == 0 and result.stdout == "hello Ada\n"
    assert "Say hello." in run_formtune("--help", env={"PYTHONPATH": str(hello)}).stdout

    thief = install(tmp_path / "b", "thief", """
import click
from formtune import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command()
    def validate():
        click.echo("mine now")
""")
    stolen = run_formtune("validate", env={"PYTHONPATH": str(thief)})
    assert stolen.returncode == 2
    assert stolen.stderr == ("ERROR: plugin 'thief' redefines the command 'validate'; disable it with "
                             "FORMTUNE_DISABLE_PLUGINS\n")


def test_a_plugin_that_fails_to_import_is_named(tmp_path, monkeypatch):
    broken = install(tmp_path / "site", "broken", "raise RuntimeError('boom')\n")
    result = run_formtune("plugins", env={"PYTHONPATH": str(broken)})
    assert result.returncode == 2
    assert result.stderr == "ERROR: plugin 'broken' (formtune_broken) failed to import: boom\n"
    assert run_formtune("plugins", env={"PYTHONPATH": str(broken), "FORMTUNE_DISABLE_PLUGINS": "broken"}).returncode == 0


def test_a_plugin_both_allowed_and_disabled_is_not_called_missing():
    result = run_formtune("plugins", "--json", env={"FORMTUNE_PLUGINS": "json,jsonschema",
                                                    "FORMTUNE_DISABLE_PLUGINS": "json"})
    assert "not installed" not in result.stderr


def test_the_registry_describes_each_plugin_and_format():
    registry = build_registry()
    rows = {row["name"]: row for row in registry.describe()}
    assert rows["json"] == {"name": "json", "formats": ["json"], **{kind: [] for kind in KINDS if kind != "formats"}}
    assert rows["jsonschema"]["validators"] == ["json-schema"] and rows["jsonschema"]["generators"] == ["schema-sampler"]
    [json_format] = [f for f in registry.describe_formats() if f["name"] == "json"]
    assert json_format == {"name": "json", "plugin": "json", "schema_language": "JSON Schema",
                           "validators": ["json-schema"], "generator": "schema-sampler", "metrics": []}
    with pytest.raises(PluginError, match=r"no validator named 'nope' \(available: .*json-schema"):
        registry.get("validators", "nope")
    with pytest.raises(PluginError, match=r"no task option named 'x' \(available: "):
        registry.get("task_options", "x")


def test_local_plugin_files_that_cannot_load_are_named(tmp_path):
    with pytest.raises(PluginError, match=f"--plugin {tmp_path / 'missing.py'}: no such file"):
        build_registry([tmp_path / "missing.py"])
    broken = tmp_path / "broken.py"
    broken.write_text("import nothing_of_that_name\n")
    with pytest.raises(PluginError, match=f"--plugin {broken}: failed to import: No module named"):
        build_registry([broken])
    unnamed = tmp_path / "unnamed.py"
    unnamed.write_text("from formtune import hookimpl, Metric\n@hookimpl\ndef register_metrics(register):\n"
                       "    register(Metric('', lambda a: 1.0))\n")
    with pytest.raises(PluginError, match=f"plugin '{unnamed}' registered a Metric without a name"):
        build_registry([unnamed])


def test_commands_from_plugins_in_process(tmp_path):
    import click

    plugin = tmp_path / "cmds.py"
    plugin.write_text("import click\nfrom formtune import hookimpl\n@hookimpl\ndef register_commands(cli):\n"
                      "    @cli.command()\n    def hello():\n        click.echo('hi')\n")
    builtin = click.Group()
    build_registry().add_commands(builtin)  # the builtin plugins' own commands
    group = click.Group(commands={"validate": click.Command("validate")})
    build_registry([plugin]).add_commands(group)
    assert set(group.commands) == {"validate", "hello", *builtin.commands}
    again = click.Group(commands={"hello": click.Command("hello")})
    with pytest.raises(PluginError) as err:
        build_registry([plugin]).add_commands(again)
    assert str(err.value) == f"plugin '{plugin}' redefines the command 'hello'; disable it with FORMTUNE_DISABLE_PLUGINS"


def test_get_registry_is_built_once_per_environment(monkeypatch):
    from formtune.plugins import get_registry

    first = get_registry()
    assert get_registry() is first
    monkeypatch.setenv("FORMTUNE_DISABLE_PLUGINS", "jsonschema")
    other = get_registry()
    assert other is not first and other.plugins == [p for p in first.plugins if p != "jsonschema"]
    monkeypatch.delenv("FORMTUNE_DISABLE_PLUGINS")
    assert get_registry() is first
    monkeypatch.setenv("FORMTUNE_PLUGINS", "json")
    assert get_registry().plugins == ["json"]


def test_the_plugins_table_lists_each_contribution_by_kind_and_fits_a_terminal():
    listed = run_formtune("plugins", env={"COLUMNS": "100"})
    assert listed.returncode == 0, listed.stderr
    assert "dialects: hermes, json-list, native, python" in listed.stdout
    assert "generators: schema-sampler" in listed.stdout
    assert max(len(line) for line in listed.stdout.splitlines()) <= 100


# In-process twins of the command-line tests above: a mutation of the registry can only be noticed
# by a test that builds the registry in its own process.

def test_the_allow_list_names_what_is_missing_in_process(monkeypatch):
    monkeypatch.setenv("FORMTUNE_PLUGINS", "json,nope,jsonschema,zzz")
    monkeypatch.setenv("FORMTUNE_DISABLE_PLUGINS", "jsonschema")
    with pytest.raises(PluginError) as err:
        build_registry()
    assert str(err.value) == f"FORMTUNE_PLUGINS names nope, zzz, which is not installed (installed: {', '.join(BUILTINS)})"
    monkeypatch.setenv("FORMTUNE_PLUGINS", "json,jsonschema")
    assert build_registry().plugins == ["json"]  # disabled is not missing


def test_a_plugin_that_fails_to_import_is_named_in_process(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(install(tmp_path / "site", "broken", "raise RuntimeError('boom')\n")))
    with pytest.raises(PluginError) as err:
        build_registry()
    assert str(err.value) == "plugin 'broken' (formtune_broken) failed to import: boom"


def test_a_clash_names_the_kind_and_both_plugins_in_process(tmp_path):
    for kind, thing, name, label in [("formats", "JsonFormat()", "json", "format"),
                                     ("task_options", "TaskOptions('jsonschema', dict)", "jsonschema", "task option")]:
        clash = tmp_path / f"clash_{kind}.py"
        clash.write_text("from formtune import hookimpl, TaskOptions\nfrom formtune_json.format import JsonFormat\n"
                         f"@hookimpl\ndef register_{kind}(register):\n    register({thing})\n")
        owner = "json" if kind == "formats" else "jsonschema"
        with pytest.raises(PluginError) as err:
            build_registry([clash])
        assert str(err.value) == (f"{label} {name!r} is registered by both plugin {owner!r} and plugin '{clash}'; "
                                  "disable one with FORMTUNE_DISABLE_PLUGINS")


def test_a_misspelled_hook_lists_the_known_ones(tmp_path):
    from formtune import hookspecs

    typo = tmp_path / "typo.py"
    typo.write_text("from formtune import hookimpl\n@hookimpl\ndef register_formatz(register):\n    pass\n")
    with pytest.raises(PluginError) as err:
        build_registry([typo])
    known = sorted(h for h in dir(hookspecs) if h.startswith("register_"))
    assert len(known) >= 12 and str(err.value).endswith(f"(known hooks: {', '.join(known)})")


def test_lookups_list_what_exists_or_say_none():
    from formtune.plugins import Registry

    with pytest.raises(PluginError) as err:
        Registry().get("formats", "json")
    assert str(err.value) == "no format named 'json' (available: none)"
    with pytest.raises(PluginError) as err:
        build_registry().get("generators", "nope")
    generators = ", ".join(sorted(build_registry().generators))
    assert "," in generators and str(err.value) == f"no generator named 'nope' (available: {generators})"


def test_metrics_apply_to_their_formats_only(tmp_path):
    plugin = tmp_path / "scores.py"
    plugin.write_text("from formtune import hookimpl, Metric\n@hookimpl\ndef register_metrics(register):\n"
                      "    register(Metric('any', lambda a: 1.0))\n"
                      "    register(Metric('json_only', lambda a: 1.0, formats=('json',)))\n"
                      "    register(Metric('xml_only', lambda a: 1.0, formats=('xml',)))\n")
    registry = build_registry([plugin])
    assert f"{plugin}:any" in registry.metrics_for("json") and f"{plugin}:xml_only" not in registry.metrics_for("json")
    assert {f"{plugin}:any", f"{plugin}:xml_only"} <= set(registry.metrics_for("xml"))
    [json_format] = [f for f in registry.describe_formats() if f["name"] == "json"]
    assert json_format["metrics"] == [f"{plugin}:any", f"{plugin}:json_only"]


def test_task_metrics_come_per_task_under_the_plugins_name(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from formtune.plugins import Registry

    monkeypatch.setenv("FORMTUNE_PLUGINS", "json")  # the rules plugin reads real tasks only
    plugin = tmp_path / "per_task.py"
    plugin.write_text("from formtune import hookimpl, Metric\n@hookimpl\ndef register_task_metrics(task, register):\n"
                      "    for rule in task.rules:\n        register(Metric(rule, lambda a: 1.0))\n")
    registry = build_registry([plugin])
    found = registry.task_metrics(SimpleNamespace(rules=["refund", "route"]))
    assert {k: v.name for k, v in found.items()} == {f"{plugin}:refund": "refund", f"{plugin}:route": "route"}
    with pytest.raises(PluginError) as err:
        registry.task_metrics(SimpleNamespace(rules=["refund", "refund"]))
    assert str(err.value) == f"plugin '{plugin}' registers the metric '{plugin}:refund' twice"
    bad = tmp_path / "bad_task_metric.py"
    bad.write_text("from formtune import hookimpl\n@hookimpl\ndef register_task_metrics(task, register):\n"
                   "    register('recall')\n")
    with pytest.raises(PluginError) as err:
        build_registry([bad]).task_metrics(SimpleNamespace())
    assert str(err.value) == f"plugin '{bad}' registered 'recall' as a task metric, but it is not a Metric"
    assert Registry().task_metrics(SimpleNamespace(rules=["refund"])) == {}


def test_an_allow_list_with_nothing_installed_says_none(monkeypatch):
    import formtune.plugins

    monkeypatch.setattr(formtune.plugins.importlib.metadata, "entry_points", lambda group: [])
    monkeypatch.setenv("FORMTUNE_PLUGINS", "json")
    with pytest.raises(PluginError) as err:
        build_registry()
    assert str(err.value) == "FORMTUNE_PLUGINS names json, which is not installed (installed: none)"
