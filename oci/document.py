"""Reading JSON that comes from outside: layouts, archives, registries, key files, attestations.

Every such document passes here before any field of it is used: its size is capped before
it is parsed, its nesting is counted before the parser recurses, ``NaN`` and ``Infinity``
are refused, and the fields Staves reads are checked against a shape (``check``). A
failure is one ``BadDocument`` line naming the source and the field, never a traceback.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from oci.errors import InvalidContent

# Manifests and indexes: the distribution spec's registries accept 4 MiB, as containerd.
MAX_DOCUMENT = 4 << 20
# Image configs carry history and labels; attestations and SBOMs list files.
MAX_CONFIG = 16 << 20
MAX_ATTESTATION = 256 << 20
# Far deeper than any OCI document, SPDX SBOM or key file, far below the parser's recursion.
MAX_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BadDocument(InvalidContent):
    """A document that is not what its source should hold: ``SOURCE: FIELD: PROBLEM``."""

    def __init__(self, source: str, problem: str, at: str = "") -> None:
        super().__init__(f"{source}: {at + ': ' if at else ''}{problem}")
        self.source = source
        self.at = at
        self.problem = problem


def nesting(data: bytes) -> int:
    """How deeply arrays and objects nest in ``data`` (brackets inside strings skipped)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes, source: str, *, limit: int = MAX_DOCUMENT) -> Any:
    """``data`` parsed, for a document from ``source`` of at most ``limit`` bytes."""
    if len(data) > limit:
        raise BadDocument(source, f"is over {_size(limit)} (it cannot be the document)")
    if (depth := nesting(data)) > MAX_DEPTH:
        raise BadDocument(source, f"nests {depth} levels deep (at most {MAX_DEPTH} are read)")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise BadDocument(source, f"is not JSON: {_first_line(exc)}") from None


def read_capped(stream: BinaryIO, source: str, limit: int = MAX_DOCUMENT) -> bytes:
    """All of ``stream``, refusing to read past ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BadDocument(source, f"is over {_size(limit)} (it cannot be the document)")
    return data


def load_json(stream: BinaryIO, source: str, limit: int = MAX_DOCUMENT) -> Any:
    return parse_json(read_capped(stream, source, limit), source, limit=limit)


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"


# -- shapes -------------------------------------------------------------------------------
# A shape says what the fields Staves reads must be; fields it does not name are left as
# they are. ``check`` returns the value with absent-valued (null) optional fields dropped,
# so ``.get(key, default)`` is safe on everything it returns.


class Shape:
    name = "a value"

    def check(self, value: Any, at: str, source: str) -> Any:
        raise NotImplementedError


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _wrong(shape: Shape, value: Any, at: str, source: str) -> BadDocument:
    return BadDocument(source, f"expected {shape.name}, found {_kind(value)}", at)


class Text(Shape):
    """A string, optionally matching ``pattern`` (``name`` says what it should be)."""

    def __init__(self, name: str = "a string", pattern: str | None = None) -> None:
        self.name = name
        self._pattern = re.compile(pattern) if pattern else None

    def check(self, value: Any, at: str, source: str) -> Any:
        if not isinstance(value, str):
            raise _wrong(self, value, at, source)
        if self._pattern is not None and not self._pattern.fullmatch(value):
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise BadDocument(source, f"{shown!r} is not {self.name}", at)
        return value


class Count(Shape):
    """A whole number from 0 (sizes, versions)."""

    name = "a whole number"

    def check(self, value: Any, at: str, source: str) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _wrong(self, value, at, source)
        return value


class Anything(Shape):
    def check(self, value: Any, at: str, source: str) -> Any:
        return value


@dataclass
class Each(Shape):
    """An array whose every item is ``item``."""

    item: Shape
    name: str = "an array"

    def check(self, value: Any, at: str, source: str) -> Any:
        if not isinstance(value, list):
            raise _wrong(self, value, at, source)
        return [self.item.check(v, f"{at}[{i}]", source) for i, v in enumerate(value)]


@dataclass
class MapOf(Shape):
    """An object of any keys, every value ``value``."""

    value: Shape
    name: str = "an object"

    def check(self, value: Any, at: str, source: str) -> Any:
        if not isinstance(value, dict):
            raise _wrong(self, value, at, source)
        return {k: self.value.check(v, _join(at, k), source) for k, v in value.items()}


@dataclass
class Fields(Shape):
    """An object whose named fields, where present and not null, have their shapes."""

    fields: Mapping[str, Shape]
    required: tuple[str, ...] = ()
    name: str = "an object"

    def check(self, value: Any, at: str, source: str) -> Any:
        if not isinstance(value, dict):
            raise _wrong(self, value, at, source)
        out = dict(value)
        for key in self.required:
            if value.get(key) is None:
                raise BadDocument(source, "is missing", _join(at, key))
        for key, shape in self.fields.items():
            if key not in value:
                continue
            if value[key] is None:
                del out[key]
            else:
                out[key] = shape.check(value[key], _join(at, key), source)
        return out


def _join(at: str, key: str) -> str:
    # A key is the document's: one with a line break or a control character is shown
    # escaped, so that the error stays one line.
    shown = key if key.isprintable() else repr(key)
    return f"{at}.{shown}" if at else shown


def check(value: Any, shape: Shape, source: str) -> Any:
    """``value`` checked against ``shape``; a BadDocument naming the first wrong field."""
    return shape.check(value, "", source)


def parse_checked(data: bytes, shape: Shape, source: str, limit: int = MAX_DOCUMENT) -> Any:
    return check(parse_json(data, source, limit=limit), shape, source)
