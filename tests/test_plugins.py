"""The plugin engine: entry-point loading, blocking, local files, clashes and misspellings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_formtune
from formtune.errors import PluginError
from formtune.plugins import build_registry

ACME = Path(__file__).parent / "fixtures" / "acme_plugin"
PERSON = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


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
