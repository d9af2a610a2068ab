"""Any spec file, however large, deep or broken, through the real ``staves build --dry-run``:
a few lines on stderr naming the file, exit status 2, never a traceback."""

import subprocess
from pathlib import Path

import pytest

from staves.errors import EXIT_USAGE
from staves.spec.errors import MAX_ERRORS

BASE = 'name = "x"\npackages = ["a/b"]\n'
MiB = 1 << 20


def dry_run(path: Path | str) -> subprocess.CompletedProcess[str]:
    """``staves build --dry-run -c PATH`` as a user runs it (this checkout's code)."""
    return subprocess.run(
        ["staves", "build", "--dry-run", "-c", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def nested(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return "{b = " * depth + "1" + "}" * depth


# (what, spec file content, expected start of the first line after "FILE: ")
CASES = [
    ("nested arrays", BASE + f"a = {nested('array', 3000)}\n", "line 3: arrays and inline"),
    ("nested inline tables", BASE + f"a = {nested('table', 3000)}\n", "line 3: arrays and inline"),
    ("nested and unclosed", BASE + "cmd = " + "[" * 100_000 + "\n", "line 3: arrays and inline"),
    ("long dotted key", BASE + ".".join(["a"] * 100_000) + " = 1\n", "line 3: a key has more"),
    ("long table header", BASE + "[" + ".".join(["a"] * 50_000) + "]\n", "line 3: a key has more"),
    ("over 1 MiB", BASE + f'x = "{"a" * MiB}"\n', "is larger than 1 MiB"),
    ("invalid UTF-8", b'name = "\xff"\npackages = ["a/b"]\n', "not UTF-8 (byte 8)"),
    ("NUL byte", b'name = "x\x00"\n', "line 1: invalid TOML: Illegal character"),
    ("5000-digit integer", BASE + "layers = " + "9" * 5000 + "\n", "an integer has over 4300"),
    ("huge hex integer", BASE + "layers = 0x" + "f" * 5000 + "\n", "layers: 0xfff"),
    ("megabyte key", BASE + f'"{"k" * 500_000}" = 1\n', "['kkkk"),
    ("megabyte atom", f'name = "x"\npackages = ["a/b::{"-x" * 300_000}"]\n', "packages[0]:"),
    ("many mistakes", 'name = "x"\npackages = [' + '"bad", ' * 100_000 + "]\n", "packages[0]:"),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_any_spec_ends_in_a_few_lines_with_exit_2(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    spec = tmp_path / "staves.toml"
    if isinstance(content, bytes):
        spec.write_bytes(content)
    else:
        spec.write_text(content, encoding="utf-8")
    result = dry_run(spec)
    assert_few_spec_lines(result, str(spec))
    assert result.stderr.startswith(f"{spec}: {expected}"), result.stderr[:300]


@pytest.mark.parametrize("path", ["/dev/zero", "."], ids=["endless device", "directory"])
def test_files_that_are_no_spec_end_in_one_line(path: str) -> None:
    result = dry_run(path)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    assert len(result.stderr.splitlines()) == 1, result.stderr[:2000]


def assert_few_spec_lines(result: subprocess.CompletedProcess[str], file: str) -> None:
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= MAX_ERRORS + 1, lines[:3]
    for line in lines:
        assert line.startswith(f"{file}: ")
        assert len(line) < 600, line[:200]


def test_reading_stops_after_ten_mistakes_and_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text('name = "x"\npackages = [' + '"bad", ' * 50 + "]\n", encoding="utf-8")
    lines = dry_run(spec).stderr.splitlines()
    assert len(lines) == MAX_ERRORS + 1
    assert lines[-1] == f"{spec}: stopped after {MAX_ERRORS} mistakes; fix these first"


def test_escaped_dollar_shows_in_the_dry_run(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text(BASE + "[env]\nCFLAGS = '-DX=\\$HOME'\n", encoding="utf-8")
    result = dry_run(spec)
    assert result.returncode == 0, result.stderr
    assert 'CFLAGS="-DX=\\\\$HOME"' in result.stdout.splitlines()


def test_tilde_with_revision_passes_the_dry_run(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text('name = "x"\npackages = ["~app-misc/foo-1.2.3_rc1-r2"]\n', encoding="utf-8")
    result = dry_run(spec)
    assert result.returncode == 0, result.stderr
    assert "~app-misc/foo-1.2.3_rc1-r2" in result.stdout
