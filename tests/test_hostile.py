"""The hostile-input corpus: every file in ``tests/hostile/<format>/`` except ``schema.*`` must be
rejected by ``formtune validate --format <format> --schema tests/hostile/<format>/schema.<ext>``
with exit 1 and a violation: no traceback, no hang, no network access, no local file read.

In a case file, ``@@CANARY@@`` becomes the absolute path of a file holding a random secret (the
secret must never be printed) and ``@@PORT@@`` a localhost port this test listens on (any
connection fails the test). A format folder whose format is not installed is skipped, with the
reason. "No hang" is 10 seconds on top of the time a trivial ``validate`` takes on this machine
now, so that a busy machine does not fail a case but a hang does.

Documents too large to keep in the repository are made here (see the end of the file); endless
input (``validate /dev/zero``) is tested with case 6 of the reliability tests.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_formtune

from formtune.plugins import get_registry

HOSTILE = Path(__file__).parent / "hostile"
CASES = sorted(p for p in HOSTILE.glob("*/*") if p.is_file() and not p.name.startswith("schema."))


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A localhost port and the list of connections made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    connections: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            connections.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def _schema(folder: Path) -> Path:
    schemas = sorted(folder.glob("schema.*"))
    assert len(schemas) == 1, f"{folder} needs exactly one schema.<ext>, has {[s.name for s in schemas]}"
    return schemas[0]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_hostile_case_is_rejected_cleanly(case: Path, tmp_path, listener, patience):
    fmt = case.parent.name
    if fmt not in get_registry().formats:
        pytest.skip(f"format {fmt!r} is not installed (no plugin registers it)")
    port, connections = listener
    secret = secrets.token_hex(16)
    canary = tmp_path / "canary.txt"
    canary.write_text(f"{secret}\n")
    copy = tmp_path / case.name
    copy.write_bytes(case.read_bytes().replace(b"@@CANARY@@", str(canary).encode())
                     .replace(b"@@PORT@@", str(port).encode()))

    try:
        result = subprocess.run([sys.executable, "-m", "formtune", "validate", "--format", fmt, "--schema",
                                 str(_schema(case.parent)), str(copy)], capture_output=True, timeout=patience)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case.name}: no result within {patience:.0f} s")
    stdout = result.stdout.decode("utf-8", "replace")
    output = stdout + result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in output, output
    assert result.returncode == 1, output
    lines = stdout.splitlines()
    assert lines[0] == f"{copy}: INVALID" and lines[1].startswith("  "), output  # a violation, not just a verdict
    assert secret not in output, "the canary file's secret was printed"
    assert connections == [], f"{case.name} made formtune connect to {connections}"


def test_a_50_mb_document_is_too_large(tmp_path, patience):
    doc = tmp_path / "huge.json"
    with doc.open("w") as fh:
        fh.write('{"name": "')
        fh.write("a" * 50_000_000)
        fh.write('"}')
    result = run_formtune("validate", "--schema", str(_schema(HOSTILE / "json")), str(doc), timeout=patience)
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [f"{doc}: INVALID",
                                          "  /: too large: over 10,000,000 bytes, the limit (--max-bytes)"]
