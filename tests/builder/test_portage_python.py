"""The program runs on the Python that has Portage: emerge's own interpreter, when the
builder's python3 is not one."""

from pathlib import Path

import pytest

from staves.builder.portage_python import emerge_interpreter


def put_emerge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_line: bytes) -> None:
    emerge = tmp_path / "bin" / "emerge"
    emerge.parent.mkdir()
    emerge.write_bytes(first_line + b"\nimport portage\n")
    emerge.chmod(0o755)
    monkeypatch.setenv("PATH", str(emerge.parent))


def test_the_interpreter_is_the_one_emerges_script_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_emerge(tmp_path, monkeypatch, b"#!/opt/portage/bin/python3")
    assert emerge_interpreter() == "/opt/portage/bin/python3"


def test_a_wrapper_binary_names_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # python-exec's emerge is a program that picks a Python with Portage by itself.
    put_emerge(tmp_path, monkeypatch, b"\x7fELF\x02\x01\x01")
    assert emerge_interpreter() is None
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert emerge_interpreter() is None
