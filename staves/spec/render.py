"""Portage configuration files from a spec: pure text, no file system.

:class:`PortageFiles` is the contract with the in-builder script, which writes
every ``files`` entry, appends every ``append`` entry, then syncs repositories.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from staves.spec.makeconf import assignment
from staves.spec.model import PackageConfig, Pairs, Repository, Spec

PORTAGE = "/etc/portage"
MAKE_CONF = f"{PORTAGE}/make.conf"
STAVES_FILE = "staves"
HEADER = "# Written by Staves from the spec; do not edit.\n"
REPOS_DIR = "/var/db/repos"

# (directory, field of PackageConfig) for the per-package list files.
_PACKAGE_LISTS = (
    ("package.use", "use"),
    ("package.env", "env"),
    ("package.accept_keywords", "keywords"),
    ("package.license", "license"),
)


@dataclass(frozen=True)
class PortageFiles:
    """Whole files to write and text to append, keyed by absolute builder path."""

    files: dict[str, str] = field(default_factory=dict)
    append: dict[str, str] = field(default_factory=dict)


def render_portage(spec: Spec) -> PortageFiles:
    """Every Portage file the builder writes for ``spec``."""
    files: dict[str, str] = {}
    for directory, attribute in _PACKAGE_LISTS:
        lines = package_lines(spec.package_config, attribute)
        if attribute == "license" and spec.accept_license:
            # Portage adds a "*/*" line of package.license to ACCEPT_LICENSE (after the
            # profile's), and applies the per-package lines after it. Unlike make.conf it
            # leaves the binary-package directory as it is: licenses change no build.
            lines.insert(0, " ".join(("*/*", *spec.accept_license)))
        _put(files, f"{PORTAGE}/{directory}/{STAVES_FILE}", lines)
    for flag in ("unmask", "mask"):
        lines = [config.atom for config in spec.package_config if getattr(config, flag)]
        _put(files, f"{PORTAGE}/package.{flag}/{STAVES_FILE}", lines)
    for env in spec.envs:
        files[f"{PORTAGE}/env/{env.name}"] = HEADER + render_assignments(env.variables)
    for repo in spec.repositories:
        files[f"{PORTAGE}/repos.conf/{repo.name}"] = HEADER + render_repository(repo)
    append = {MAKE_CONF: render_make_conf_append(spec.make_conf)} if spec.make_conf else {}
    return PortageFiles(files=files, append=append)


def render_assignments(variables: Pairs) -> str:
    """``NAME="value"`` lines, in order (later lines may refer to earlier ones)."""
    return "".join(assignment(name, value) + "\n" for name, value in variables)


def render_make_conf_append(variables: Pairs) -> str:
    """Text appended to make.conf; starts with a newline in case the file lacks one."""
    return "\n" + HEADER + render_assignments(variables)


def render_repository(repo: Repository) -> str:
    """A repos.conf section; ``%`` is doubled for its ConfigParser interpolation."""
    lines = (
        f"[{repo.name}]",
        f"location = {REPOS_DIR}/{repo.name}",
        f"sync-type = {repo.type}",
        f"sync-uri = {repo.uri.replace('%', '%%')}",
        "auto-sync = yes",
    )
    return "".join(line + "\n" for line in lines)


def package_lines(configs: Iterable[PackageConfig], attribute: str) -> list[str]:
    """``ATOM VALUE…`` lines for one list attribute of the per-package tables."""
    return [
        " ".join((config.atom, *getattr(config, attribute)))
        for config in configs
        if getattr(config, attribute)
    ]


def _put(files: dict[str, str], path: str, lines: list[str]) -> None:
    if lines:
        files[path] = HEADER + "".join(line + "\n" for line in lines)
