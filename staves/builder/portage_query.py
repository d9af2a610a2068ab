"""Questions to Portage about a configuration, through portageq."""

import configparser
import glob
import os
import shlex
import subprocess
from pathlib import Path

from .places import IMAGE_CONFIG_ROOT


def portage_vars(names: list[str], config_root: str | None = None) -> dict[str, str]:
    """Several of Portage's variables from one portageq run (``NAME*`` for every variable
    starting with NAME): each run costs about half a second, Portage loading its whole
    configuration, and a build asked for one variable per run eight times."""
    env = {**os.environ, "PORTAGE_CONFIGROOT": config_root} if config_root else None
    try:
        done = subprocess.run(
            ["portageq", "envvar", "-v", *names],
            capture_output=True,
            text=True,
            check=False,  # exits 1 when one of them is unset, and prints it empty
            env=env,
        )
    except OSError:
        return {}
    return parse_envvar_lines(done.stdout)


def parse_envvar_lines(text: str) -> dict[str, str]:
    """``NAME='value'`` lines of ``portageq envvar -v``, unquoted."""
    found = {}
    for line in text.splitlines():
        name, equals, quoted = line.partition("=")
        if equals:
            try:
                found[name] = "".join(shlex.split(quoted))
            except ValueError:
                continue
    return found


def image_vars(names: list[str]) -> dict[str, str]:
    """Portage's variables for the image root's configuration, in one portageq run."""
    return portage_vars(names, IMAGE_CONFIG_ROOT)


def portageq(*args: str) -> str:
    """One answer of portageq about the image root's configuration (empty when none)."""
    env = {**os.environ, "PORTAGE_CONFIGROOT": IMAGE_CONFIG_ROOT}
    found = subprocess.run(
        ["portageq", *args], capture_output=True, text=True, check=False, env=env
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def repositories_have(root: Path, cp: str) -> bool:
    """Whether an ebuild repository of the image's configuration holds CATEGORY/PN (masked
    or not: a masked one is for emerge to explain)."""
    repos = configparser.ConfigParser(interpolation=None)
    try:
        repos.read_string(portageq("repos_config", str(root)))
    except configparser.Error:
        return False
    paths = [repos[name].get("location", "") for name in repos.sections()]
    return any(glob.glob(f"{path}/{cp}/*.ebuild") for path in paths if path)
