"""The builder's two streams told apart by Podman's frames: records on stdout, everything
else on stderr; lines whole across frames; the run's end at the ``finished`` record."""

import json
from typing import Any

from staves.podman.builder_output import STDERR, STDOUT, follow


class Heard:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.lines: list[str] = []

    def record(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def output(self, line: str) -> None:
        self.lines.append(line)


def rec(event: str, **fields: Any) -> bytes:
    return (json.dumps({"event": event, **fields}) + "\n").encode()


def test_records_and_output_come_apart_whole_and_in_order() -> None:
    heard = Heard()
    snowman = "☃".encode()
    frames = [
        (STDERR, b">>> Emerging (1 of 1) a/b-1\n>>> Comp"),
        (STDOUT, rec("phase", name="merge", state="start")[:10]),
        (STDERR, b"iling " + snowman[:1]),
        (STDOUT, rec("phase", name="merge", state="start")[10:]),
        (STDERR, snowman[1:] + b"\n"),
        (STDOUT, b"not a record\n" + rec("failed", message="emerge failed for a/b-1; more")),
        (STDOUT, rec("finished", code=1)),
        (STDERR, b"never read\n"),
    ]
    result = follow(iter(frames), heard)
    assert result.exit_code == 1 and result.failure == "emerge failed for a/b-1; more"
    assert heard.lines == [">>> Emerging (1 of 1) a/b-1", ">>> Compiling ☃", "not a record"]
    assert [r["event"] for r in heard.records] == ["phase", "failed"]


def test_an_emerge_line_that_looks_like_a_record_on_stderr_stays_output() -> None:
    heard = Heard()
    result = follow(
        iter([(STDERR, rec("finished", code=0)), (STDOUT, rec("finished", code=0))]), heard
    )
    assert result.exit_code == 0 and heard.lines == ['{"event": "finished", "code": 0}']


def test_a_program_that_ends_without_finishing_was_killed() -> None:
    heard = Heard()
    result = follow(iter([(STDERR, b"Killed")]), heard)
    assert result.exit_code == 137 and heard.lines == ["Killed"]
