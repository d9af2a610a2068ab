"""Typed reads of TOML values that report mistakes instead of raising."""

import datetime
import difflib
from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any, Protocol, TypeVar

from staves.spec.errors import Collector, Path, show

T = TypeVar("T", bound=Hashable)
Reader = Callable[[Path, object], str | None]


def toml_type(value: object) -> str:
    """The TOML name of a parsed value's type."""
    match value:
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "float"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "table"
        case datetime.datetime() | datetime.date() | datetime.time():
            return "date/time"
    return type(value).__name__


def did_you_mean(word: str, choices: Collection[str]) -> str | None:
    """The closest of ``choices`` to ``word``, if any is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        return lowered.get(word.lower())
    return close[0]


def unknown_keys(
    out: Collector,
    path: Path,
    table: Mapping[str, Any],
    known: Collection[str],
    elsewhere: Mapping[str, str] | None = None,
) -> None:
    """Report every key of ``table`` that is not in ``known``."""
    for key in table:
        if key in known:
            continue
        if elsewhere and key in elsewhere:
            out.add((*path, key), "unknown key here", elsewhere[key])
            continue
        guess = did_you_mean(key, known)
        accepted = "accepted keys: " + ", ".join(sorted(known))
        hint = f"did you mean {guess!r}? {accepted}" if guess else accepted
        out.add((*path, key), "unknown key", hint)


def wrong_type(out: Collector, path: Path, value: object, wanted: str) -> None:
    out.add(path, f"expected {wanted}, got {toml_type(value)} {show(value)}", f"write {wanted}")


def string(out: Collector, path: Path, value: object, what: str = "a string") -> str | None:
    if isinstance(value, str):
        return value
    wrong_type(out, path, value, what)
    return None


def boolean(out: Collector, path: Path, value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    wrong_type(out, path, value, "true or false")
    return None


def table(out: Collector, path: Path, value: object) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    wrong_type(out, path, value, "a table")
    return None


def array(out: Collector, path: Path, value: object, what: str) -> list[Any] | None:
    if isinstance(value, list):
        return value
    wrong_type(out, path, value, f"an array of {what}")
    return None


def each(
    out: Collector,
    path: Path,
    value: object,
    what: str,
    read: Callable[[Path, object], T | None],
    *,
    unique: bool = True,
) -> tuple[T, ...] | None:
    """Read an array with ``read`` for each item; duplicates are errors."""
    items = array(out, path, value, what)
    if items is None:
        return None
    result: list[T] = []
    seen: set[T] = set()  # a set, so a list of a hundred thousand stays quick
    ok = True
    for index, item in enumerate(items):
        got = read((*path, index), item)
        if got is None:
            ok = False
        elif unique and got in seen:
            out.add((*path, index), f"{show(got)} is listed twice", "list each once")
            ok = False
        else:
            result.append(got)
            seen.add(got)
    return tuple(result) if ok else None


def checked_string(
    out: Collector,
    path: Path,
    value: object,
    problem: Callable[[str], str | None],
    hint: str,
) -> str | None:
    """A string that ``problem`` finds nothing wrong with."""
    text = string(out, path, value)
    if text is None:
        return None
    if (reason := problem(text)) is not None:
        out.add(path, f"{show(text)} {reason}", hint)
        return None
    return text


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def named_tables(
    out: Collector,
    key: str,
    value: object,
    read: Callable[[Collector, Path, object], N | None],
    noun: str,
) -> tuple[N, ...] | None:
    """An array of tables (``[[key]]``), each read by ``read``, their names unique."""
    items = array(out, (key,), value, f"tables ([[{key}]])")
    if items is None:
        return None
    found: dict[str, N] = {}
    ok = True
    for index, item in enumerate(items):
        one = read(out, (key, index), item)
        if one is None:
            ok = False
        elif one.name in found:
            out.add(
                (key, index, "name"),
                f"{show(one.name)} is defined twice",
                f"give each {noun} its own name",
            )
            ok = False
        else:
            found[one.name] = one
    return tuple(found.values()) if ok else None
