"""Hostile XML (tests/hostile/xml/): every case is rejected with a clear violation, reads no local
file, opens no connection and ends; legal oddities (a BOM, schema hints, stylesheet PIs) are
accepted without following anything."""

from __future__ import annotations

import socket
import threading

import pytest

from conftest import ROOT, run_formtune
from formtune.api import validate_files

CASES = ROOT / "tests" / "hostile" / "xml"
SCHEMA = CASES / "schema.xsd"
SECRET = "s3cret-canary-7f1c"


@pytest.fixture
def listener():
    """A localhost port that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def cases(tmp_path, listener):
    canary = tmp_path / "canary.txt"
    canary.write_text(SECRET)
    port, _ = listener
    out = tmp_path / "cases"
    out.mkdir()
    for case in sorted(CASES.glob("*.xml")):
        data = case.read_bytes().replace(b"@@CANARY@@", str(canary).encode()).replace(b"@@PORT@@", str(port).encode())
        (out / case.name).write_bytes(data)
    return sorted(out.glob("*.xml"))


def test_the_corpus_covers_the_checklist():
    names = {p.stem for p in CASES.glob("*.xml")}
    assert {"xxe-local-file", "xxe-remote", "external-dtd", "parameter-entities", "billion-laughs",
            "quadratic-blowup", "deep-nesting", "many-attributes", "invalid-utf8", "xinclude"} <= names


def test_every_case_is_rejected_with_a_violation_and_touches_nothing(cases, listener):
    for result in validate_files(SCHEMA, cases, "xml"):
        assert not result.valid and result.errors, result.file
        assert all(v.message and SECRET not in v.message for v in result.errors)
    assert listener[1] == []


def test_the_command_line_exits_1_without_traceback_or_secret(cases, listener):
    done = run_formtune("validate", "--format", "xml", "--schema", str(SCHEMA), *map(str, cases), timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr
    assert done.stdout.count("INVALID") == len(cases)
    assert listener[1] == []


@pytest.mark.parametrize("name, reason", [
    ("xxe-local-file", "DOCTYPE"), ("billion-laughs", "DOCTYPE"), ("deep-nesting", "nested deeper"),
    ("many-attributes", "attributes"), ("invalid-utf8", "not UTF-8"), ("xinclude", "XInclude"),
])
def test_the_violation_says_what_was_refused(cases, name, reason):
    [result] = validate_files(SCHEMA, [c for c in cases if c.stem == name], "xml")
    assert reason in result.errors[0].message


@pytest.mark.parametrize("text", [
    "\ufeff<note><to>Ada</to><body>a UTF-8 byte order mark is legal XML</body></note>",
    '<note xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://127.0.0.1:PORT/evil.xsd"><to>Ada</to><body>hint</body></note>',
    '<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:PORT/x.xsl"?><note><to>A</to><body>b</body></note>',
])
def test_legal_documents_are_accepted_and_nothing_is_followed(tmp_path, listener, text):
    path = tmp_path / "doc.xml"
    path.write_text(text.replace("PORT", str(listener[0])), encoding="utf-8")
    [result] = validate_files(SCHEMA, [path], "xml")
    assert result.valid, result.errors
    assert listener[1] == []
