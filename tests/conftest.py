"""Shared fixtures: running the CLI for real, and paths to the shared test corpora."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def run_formtune(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m formtune ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "formtune", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def formtune_cli():
    return run_formtune


@pytest.fixture(autouse=True)
def _isolated_plugin_env(monkeypatch):
    """Tests start from the default plugin set, whatever the developer's shell says."""
    monkeypatch.delenv("FORMTUNE_PLUGINS", raising=False)
    monkeypatch.delenv("FORMTUNE_DISABLE_PLUGINS", raising=False)
