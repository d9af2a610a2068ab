"""From TOML text to a validated :class:`Spec`, or every mistake at once."""

import re
import sys
import tomllib
from pathlib import Path as FsPath
from typing import Any

from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.atom import is_package_name
from staves.spec import fields
from staves.spec.debug import read_debug
from staves.spec.distcc import read_distcc
from staves.spec.errors import Collector, printable
from staves.spec.model import Spec
from staves.spec.nesting import nesting_problem
from staves.spec.read_binhosts import read_binhosts
from staves.spec.read_build import (
    env_names,
    read_accept_license,
    read_env,
    read_install_mask,
    read_layers,
    read_locale,
    read_platforms,
    read_repositories,
    read_vdb,
)
from staves.spec.read_image import IMAGE_KEYS, read_image
from staves.spec.read_packages import (
    PACKAGE_KEYS,
    is_package_key,
    read_package_list,
    read_package_table,
)

BUILD_KEYS = frozenset(
    {
        "packages",
        "env",
        "repositories",
        "binhosts",
        "locale",
        "stdlib",
        "install_mask",
        "layers",
        "vdb",
        "accept_license",
        "platforms",
        "debug",
        "distcc",
    }
)
TOP_LEVEL_KEYS = IMAGE_KEYS | BUILD_KEYS
_PACKAGE_TABLE_HINT = (
    "per-package settings go in a table keyed by its atom, e.g. ['app-shells/bash'] "
)
_ELSEWHERE = {
    **{key: _PACKAGE_TABLE_HINT + f"{key} = ..." for key in PACKAGE_KEYS - {"env"}},
    "entrypoint": "did you mean 'command'? (the image entrypoint)",
    "tag": "did you mean 'version'? (the image tag)",
    "repos": "did you mean [[repositories]]?",
    "repository": "did you mean [[repositories]]?",
    "binhost": "did you mean [[binhosts]]?",
    "binrepos": "did you mean [[binhosts]]?",
}


MAX_SPEC_BYTES = 1 << 20
_TOML_POSITION = re.compile(r"\(at line (?P<line>\d+), column (?P<column>\d+)\)$")
_TOML_AT_END = "(at end of document)"


def load_spec(path: str | FsPath) -> Spec:
    """Read and validate the spec file at ``path``."""
    name = printable(str(path))
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_SPEC_BYTES + 1)  # no further: it may be /dev/zero
    except FileNotFoundError:
        raise StavesError(
            "no such file",
            file=name,
            hint="write a staves.toml or pass -c FILE",
            exit_code=EXIT_USAGE,
        ) from None
    except OSError as error:
        raise StavesError(
            f"cannot read: {error.strerror}",
            file=name,
            hint="check the path and permissions",
            exit_code=EXIT_USAGE,
        ) from None
    return loads_spec(data, name, FsPath(path).parent)


def loads_spec(data: bytes | str, file: str = "staves.toml", base: FsPath | None = None) -> Spec:
    """Validate spec text; ``file`` names it in messages, ``base`` is the directory its
    relative paths (patches) start from (default: ``file``'s)."""
    if len(data) > MAX_SPEC_BYTES:
        raise StavesError(
            "is larger than 1 MiB",
            file=file,
            hint="a spec is a short text file: is it the right file?",
            exit_code=EXIT_USAGE,
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise StavesError(
                f"not UTF-8 (byte {error.start})",
                file=file,
                hint="TOML files are UTF-8",
                exit_code=EXIT_USAGE,
            ) from None
    if (deep := nesting_problem(data)) is not None:
        raise StavesError(
            deep.problem,
            file=file,
            key=f"line {deep.line}",
            hint="a spec needs only a few levels",
            exit_code=EXIT_USAGE,
        )
    return parse_spec(_toml(data, file), file, base)


def _toml(data: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(data)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(str(error), data, file) from None
    except ValueError:  # tomllib lets int()'s refusal of very long numbers through
        raise StavesError(
            f"an integer has over {sys.get_int_max_str_digits()} digits",
            file=file,
            hint="no setting takes a number that long",
            exit_code=EXIT_USAGE,
        ) from None


def _toml_error(message: str, data: str, file: str) -> StavesError:
    """Move tomllib's "(at line L, column C)" to the front: ``FILE: line L: …``."""
    line = None
    if match := _TOML_POSITION.search(message):
        line = match["line"]
        message = message[: match.start()] + f"(column {match['column']})"
    elif message.endswith(_TOML_AT_END):
        line = str(data.count("\n") + (0 if data.endswith("\n") else 1))
        message = message.removesuffix(_TOML_AT_END) + "(at end of file)"
    return StavesError(
        f"invalid TOML: {message}",
        file=file,
        key=f"line {line}" if line else None,
        hint="see https://toml.io for the syntax",
        exit_code=EXIT_USAGE,
    )


def parse_spec(doc: dict[str, Any], file: str = "staves.toml", base: FsPath | None = None) -> Spec:
    """Validate an already parsed TOML document, raising :class:`SpecErrors`; relative
    paths (patches) start from ``base`` (default: ``file``'s directory)."""
    out = Collector(file)
    base = FsPath(file).parent if base is None else base
    _unknown_top_level(out, doc)
    image = read_image(out, doc)
    packages = read_package_list(out, doc)
    env = read_env(out, doc["env"]) if "env" in doc else ((), ())
    defined = env_names(doc)
    configs = [
        read_package_table(out, key, value, defined, base)
        for key, value in doc.items()
        if is_package_key(key)
    ]
    settings: dict[str, Any] = {}
    if "repositories" in doc:
        settings["repositories"] = read_repositories(out, doc["repositories"])
    if "binhosts" in doc:
        settings["binhosts"] = read_binhosts(out, doc["binhosts"])
    if "locale" in doc:
        settings["locale"] = read_locale(out, doc["locale"])
    if "stdlib" in doc:
        settings["stdlib"] = fields.boolean(out, ("stdlib",), doc["stdlib"])
    if "install_mask" in doc:
        settings["install_mask"] = read_install_mask(out, doc["install_mask"])
    if "layers" in doc:
        settings["layers"] = read_layers(out, doc["layers"])
    if "vdb" in doc:
        settings["vdb"] = read_vdb(out, doc["vdb"])
    if "accept_license" in doc:
        settings["accept_license"] = read_accept_license(out, doc["accept_license"])
        if env is not None and any(name == "ACCEPT_LICENSE" for name, _ in env[0]):
            out.add(("env", "ACCEPT_LICENSE"), "is set by accept_license too", "keep one of them")
    if "platforms" in doc:
        settings["platforms"] = read_platforms(out, doc["platforms"])
    if "debug" in doc:
        settings["debug"] = read_debug(out, doc["debug"])
    if "distcc" in doc:
        settings["distcc"] = read_distcc(out, doc["distcc"])
    out.check()
    assert image is not None and packages is not None and env is not None
    return Spec(
        image=image,
        packages=packages,
        package_config=tuple(c for c in configs if c is not None),
        make_conf=env[0],
        envs=env[1],
        **settings,
    )


def _unknown_top_level(out: Collector, doc: dict[str, Any]) -> None:
    for key, value in doc.items():
        if key in TOP_LEVEL_KEYS or is_package_key(key):
            continue
        guess = fields.did_you_mean(key, TOP_LEVEL_KEYS)
        if key in _ELSEWHERE:
            hint = _ELSEWHERE[key]
        elif guess:
            hint = f"did you mean {guess!r}?"
        elif isinstance(value, dict) and is_package_name(key):
            hint = f"package tables are keyed by CATEGORY/PACKAGE, e.g. ['app-misc/{key}']"
        else:
            hint = "accepted keys: " + ", ".join(sorted(TOP_LEVEL_KEYS)) + ", ['CATEGORY/PACKAGE']"
        out.add((key,), "unknown key", hint)
