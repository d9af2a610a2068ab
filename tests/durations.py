"""The time breakdown of a test run, from pytest's JUnit XML, as the tables of tests/README.md.

    scripts/test --junitxml=/tmp/run.xml
    .venv/bin/python -m tests.durations /tmp/run.xml

Per file: its tests' time summed (setup, call and teardown: the JUnit ``time``, which
includes the module's fixtures, made in its first test), and the ten slowest tests.
"""

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def file_of(case: ET.Element) -> str:
    """``tests/x/test_y.py`` from a testcase's ``classname`` (``tests.x.test_y[.Class]``)."""
    parts = case.get("classname", "").split(".")
    while parts and not parts[-1].startswith("test_"):
        parts.pop()
    return "/".join(parts) + ".py"


def outcome(case: ET.Element) -> str:
    for kind in ("failure", "error", "skipped"):
        if case.find(kind) is not None:
            return kind
    return "passed"


def report(xml: Path, slowest: int = 10) -> str:
    cases = list(ET.parse(xml).getroot().iter("testcase"))
    per_file: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for case in cases:
        per_file[file_of(case)] += float(case.get("time", 0))
        counts[outcome(case)] += 1
    total = sum(per_file.values())
    lines = ["| file | seconds | share |", "| --- | ---: | ---: |"]
    for name, seconds in sorted(per_file.items(), key=lambda kv: -kv[1]):
        if seconds >= 1:
            lines.append(f"| {name} | {seconds:.0f} | {100 * seconds / total:.1f}% |")
    lines.append(f"| (all {len(per_file)} files) | {total:.0f} | |")
    lines += ["", "| test | seconds |", "| --- | ---: |"]
    ranked = sorted(cases, key=lambda c: -float(c.get("time", 0)))[:slowest]
    for case in ranked:
        lines.append(f"| {file_of(case)}::{case.get('name')} | {float(case.get('time', 0)):.0f} |")
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    return "\n".join([f"Tests: {summary}.", "", *lines])


if __name__ == "__main__":
    print(report(Path(sys.argv[1])))
