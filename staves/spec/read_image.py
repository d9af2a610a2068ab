"""Reading the image half of a spec: reference and OCI runtime config."""

import re
import shlex
from typing import Any

from staves.spec import fields
from staves.spec.errors import Collector, Path, show
from staves.spec.model import ImageSettings, Pairs
from staves.spec.names import (
    IMAGE_TAG,
    NAME_HINT,
    TAG_HINT,
    VARIABLE,
    VARIABLE_HINT,
    control_character,
    image_name_problem,
)

IMAGE_KEYS = frozenset(
    {
        "name",
        "version",
        "command",
        "cmd",
        "user",
        "workdir",
        "ports",
        "volumes",
        "labels",
        "annotations",
        "stop_signal",
        "image",
    }
)
IMAGE_TABLE_KEYS = frozenset({"env"})

_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*(?::[A-Za-z0-9_.][A-Za-z0-9_.-]*)?")
_PORT = re.compile(r"(?P<port>[0-9]{1,5})(?:/(?P<proto>tcp|udp|sctp))?")
_SIGNAL_NAMES = (
    "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT "
    "CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
)
SIGNALS = frozenset("SIG" + name for name in _SIGNAL_NAMES.split())
_REALTIME = re.compile(r"SIGRTMIN(?:\+(?:[1-9]|1[0-5]))?|SIGRTMAX(?:-(?:[1-9]|1[0-4]))?")


def read_image(out: Collector, doc: dict[str, Any]) -> ImageSettings | None:
    """The image settings from the top level of ``doc`` (and its ``[image]`` table)."""
    if "name" not in doc:
        out.add(("name",), "missing", 'name the image, e.g. name = "bash"')
        name = None
    else:
        name = image_name(out, ("name",), doc["name"])
    version = "latest"
    if "version" in doc:
        version = image_tag(out, ("version",), doc["version"]) or version
    settings: dict[str, Any] = {}
    if "command" in doc:
        settings["entrypoint"] = _argv(out, ("command",), doc["command"])
    if "cmd" in doc:
        settings["cmd"] = _argv(out, ("cmd",), doc["cmd"])
    if "user" in doc:
        settings["user"] = _user(out, ("user",), doc["user"])
    if "workdir" in doc:
        settings["workdir"] = _absolute_path(out, ("workdir",), doc["workdir"])
    if "ports" in doc:
        settings["ports"] = fields.each(out, ("ports",), doc["ports"], "ports", _port(out))
    if "volumes" in doc:
        read = _absolute_path_reader(out)
        settings["volumes"] = fields.each(out, ("volumes",), doc["volumes"], "paths", read)
    for key in ("labels", "annotations"):
        if key in doc:
            settings[key] = _string_table(out, (key,), doc[key])
    if "stop_signal" in doc:
        settings["stop_signal"] = _signal(out, ("stop_signal",), doc["stop_signal"])
    if "image" in doc:
        settings["env"] = _image_table(out, doc["image"])
    if name is None or any(value is None for value in settings.values()):
        return None
    return ImageSettings(name=name, version=version, **settings)


def image_name(out: Collector, path: Path, value: object) -> str | None:
    return fields.checked_string(out, path, value, image_name_problem, NAME_HINT)


def image_tag(out: Collector, path: Path, value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        out.add(
            path,
            f"expected a string, got {fields.toml_type(value)} {value}",
            f'quote it: "{value}"',
        )
        return None

    def problem(tag: str) -> str | None:
        return None if IMAGE_TAG.fullmatch(tag) else "is not an image tag"

    return fields.checked_string(out, path, value, problem, TAG_HINT)


def _argv(out: Collector, path: Path, value: object) -> tuple[str, ...] | None:
    hint = 'a string split like a shell does, or an array of strings, e.g. ["/bin/sh", "-c"]'
    if isinstance(value, str):
        try:
            words = tuple(shlex.split(value))
        except ValueError as error:
            out.add(path, f"cannot split {show(value)}: {error}", hint)
            return None
        if not words:
            out.add(path, "is empty", hint)
            return None
        if "\x00" in value:
            out.add(path, "contains a NUL character", "arguments can hold any character but NUL")
            return None
        return words
    if not isinstance(value, list):
        fields.wrong_type(out, path, value, "a string or an array of strings")
        return None
    if not value:
        out.add(path, "is empty", hint)
        return None
    words_or_none = fields.each(
        out, path, value, "strings", lambda p, v: _argument(out, p, v), unique=False
    )
    return words_or_none


def _argument(out: Collector, path: Path, value: object) -> str | None:
    text = fields.string(out, path, value)
    if text is not None and "\x00" in text:
        out.add(path, "contains a NUL character", "arguments can hold any character but NUL")
        return None
    return text


def _user(out: Collector, path: Path, value: object) -> str | None:
    hint = 'a user name or UID, optionally ":GROUP", e.g. "nobody" or "1000:1000"'
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            out.add(path, f"{value} is negative", hint)
            return None
        return str(value)
    if not isinstance(value, str):
        fields.wrong_type(out, path, value, "a string or a UID")
        return None
    if not _USER.fullmatch(value):
        out.add(path, f"{show(value)} is not a user", hint)
        return None
    return value


def _absolute_path(out: Collector, path: Path, value: object) -> str | None:
    def problem(text: str) -> str | None:
        if char := control_character(text):
            return f"contains the control character {char}"
        return None if text.startswith("/") else "is not an absolute path"

    return fields.checked_string(out, path, value, problem, 'an absolute path, e.g. "/data"')


def _absolute_path_reader(out: Collector) -> fields.Reader:
    return lambda path, value: _absolute_path(out, path, value)


def _port(out: Collector) -> fields.Reader:
    hint = 'a port number or "PORT/PROTOCOL" with tcp, udp or sctp, e.g. 8080 or "53/udp"'

    def read(path: Path, value: object) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            number, proto = value, "tcp"
        elif isinstance(value, str) and (match := _PORT.fullmatch(value)):
            number, proto = int(match["port"]), match["proto"] or "tcp"
        elif isinstance(value, str):
            out.add(path, f"{show(value)} is not a port", hint)
            return None
        else:
            fields.wrong_type(out, path, value, "an integer or a string")
            return None
        if not 1 <= number <= 65535:
            out.add(path, f"{number} is out of range", "ports are 1 to 65535")
            return None
        return f"{number}/{proto}"

    return read


def _string_table(out: Collector, path: Path, value: object) -> Pairs | None:
    items = fields.table(out, path, value)
    if items is None:
        return None
    result: list[tuple[str, str]] = []
    for key, item in items.items():
        if not key or control_character(key):
            out.add(
                (*path, key), "is not a usable key", "a non-empty key without control characters"
            )
            continue
        if (text := fields.string(out, (*path, key), item)) is not None:
            result.append((key, text))
    if len(result) != len(items):
        return None
    return tuple(sorted(result))


def _signal(out: Collector, path: Path, value: object) -> str | None:
    hint = 'a signal name such as "SIGTERM" or "SIGRTMIN+3", or a number 1 to 64'
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= 64:
            return str(value)
        out.add(path, f"{show(value)} is out of range", hint)
        return None
    text = fields.string(out, path, value, "a signal name or number")
    if text is None:
        return None
    if text in SIGNALS or _REALTIME.fullmatch(text):
        return text
    guess = fields.did_you_mean("SIG" + text.upper().removeprefix("SIG"), SIGNALS)
    out.add(path, f"{show(text)} is not a signal", f"did you mean {guess!r}?" if guess else hint)
    return None


def _image_table(out: Collector, value: object) -> Pairs | None:
    image = fields.table(out, ("image",), value)
    if image is None:
        return None
    elsewhere = {
        key: f"{key!r} is a top-level key: write it before any [table]"
        for key in IMAGE_KEYS - {"image"}
    }
    fields.unknown_keys(out, ("image",), image, IMAGE_TABLE_KEYS, elsewhere)
    if "env" not in image:
        return ()
    env = fields.table(out, ("image", "env"), image["env"])
    if env is None:
        return None
    result: list[tuple[str, str]] = []
    for key, item in env.items():
        path = ("image", "env", key)
        if not VARIABLE.fullmatch(key):
            out.add(path, "is not a variable name", VARIABLE_HINT)
            continue
        text = fields.string(out, path, item)
        if text is not None and "\x00" in text:
            out.add(path, "contains a NUL character", "values can hold any character but NUL")
        elif text is not None:
            result.append((key, text))
    return tuple(sorted(result)) if len(result) == len(env) else None
