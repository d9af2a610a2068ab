"""Where credentials come from, in podman's order: pure lookups plus credential helpers.

Nothing here reads the process environment: callers pass it in.
"""

import base64
import binascii
import json
import logging
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oci.document import MAX_CONFIG, BadDocument, parse_json
from oci.errors import OciError
from oci.registry.reference import DOCKER_HUB

log = logging.getLogger(__name__)

_DOCKER_HUB_LEGACY_KEY = "https://index.docker.io/v1/"
_HELPER_TIMEOUT = 60
_IDENTITY_TOKEN_USER = "<token>"


class CredentialError(OciError):
    """An auth file or credential helper that cannot be used."""


@dataclass(frozen=True)
class Credentials:
    """A user name with a password, or an identity (refresh) token. Never printed."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, secret=<hidden>)"


HelperRunner = Callable[[str, str], Credentials | None]


def parse_creds(text: str) -> Credentials:
    """``USER[:PASS]`` as ``--creds`` takes it; the password may be empty."""
    user, _, password = text.partition(":")
    if not user:
        raise CredentialError("the user name is empty; expected USER[:PASS]")
    return Credentials(user, password)


def auth_file_paths(authfile: Path | None, env: Mapping[str, str], uid: int = 0) -> list[Path]:
    """The auth files podman reads, first match wins.

    The first is ``--authfile``, else ``REGISTRY_AUTH_FILE``, else the runtime-dir file;
    then ``$XDG_CONFIG_HOME/containers/auth.json`` and ``~/.docker/config.json``.
    """
    if authfile is not None:
        primary = authfile
    elif env.get("REGISTRY_AUTH_FILE"):
        primary = Path(env["REGISTRY_AUTH_FILE"])
    elif env.get("XDG_RUNTIME_DIR"):
        primary = Path(env["XDG_RUNTIME_DIR"]) / "containers/auth.json"
    else:
        primary = Path(f"/run/containers/{uid}/auth.json")
    home = Path(env.get("HOME", "/root"))
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return [primary, config_home / "containers/auth.json", home / ".docker/config.json"]


def _normalize_key(key: str) -> str:
    """Auth-file keys may be URLs (Docker's old style): keep host[/path] only."""
    if key == _DOCKER_HUB_LEGACY_KEY:
        return DOCKER_HUB
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            return key.removeprefix(prefix).split("/", 1)[0]
    return key


def lookup_keys(registry: str, repository: str) -> list[str]:
    """Keys to look for, most specific first: ``host/ns/repo``, ``host/ns``, ``host``."""
    parts = repository.split("/")
    keys = [f"{registry}/{'/'.join(parts[:n])}" for n in range(len(parts), 0, -1)]
    return [*keys, registry]


def _decode_auth(value: str, source: str) -> tuple[str, str]:
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise CredentialError(f"{source}: an 'auth' entry is not base64 of USER:PASS") from None
    if not sep:
        raise CredentialError(f"{source}: an 'auth' entry has no ':' between user and password")
    return user, password


def _entry_credentials(entry: Mapping[str, Any], source: str) -> Credentials | None:
    user, password = "", ""
    if entry.get("auth"):
        user, password = _decode_auth(str(entry["auth"]), source)
    token = str(entry.get("identitytoken") or "")
    if not (user or password or token):
        return None
    return Credentials(user, password, token)


def _from_auths(doc: Mapping[str, Any], keys: Sequence[str], source: str) -> Credentials | None:
    auths = doc.get("auths") or {}
    by_key = {_normalize_key(k): v for k, v in auths.items() if isinstance(v, dict)}
    for key in keys:
        if key in by_key:
            return _entry_credentials(by_key[key], source)
    return None


def _load(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CredentialError(f"{path}: cannot read: {err.strerror}") from None
    try:
        doc = parse_json(text.encode(), str(path), limit=MAX_CONFIG) if text.strip() else {}
    except BadDocument as err:
        raise CredentialError(str(err).replace("is not JSON", "not valid JSON")) from None
    if not isinstance(doc, dict):
        raise CredentialError(f"{path}: expected a JSON object")
    return doc


def credentials_from_file(
    doc: Mapping[str, Any],
    registry: str,
    repository: str,
    source: str,
    run_helper: HelperRunner,
) -> Credentials | None:
    """One auth file: ``credHelpers`` for the registry, then ``auths``, then ``credsStore``."""
    helpers = doc.get("credHelpers") or {}
    if registry in helpers:
        return run_helper(str(helpers[registry]), registry)
    found = _from_auths(doc, lookup_keys(registry, repository), source)
    if found is None and doc.get("credsStore"):
        server = _DOCKER_HUB_LEGACY_KEY if registry == DOCKER_HUB else registry
        found = run_helper(str(doc["credsStore"]), server)
    return found


def resolve_credentials(
    registry: str,
    repository: str,
    *,
    creds: Credentials | None,
    auth_files: Sequence[Path],
    run_helper: HelperRunner | None = None,
    required_file: Path | None = None,
) -> Credentials | None:
    """Credentials for ``registry/repository``: ``creds`` if given, else the first file hit.

    ``required_file`` (``--authfile``) must exist; other files may be missing.
    """
    if creds is not None:
        return creds
    if required_file is not None and not required_file.exists():
        raise CredentialError(f"--authfile {required_file}: no such file")
    runner = run_helper or run_credential_helper
    for path in auth_files:
        doc = _load(path)
        if doc is None:
            continue
        found = credentials_from_file(doc, registry, repository, str(path), runner)
        if found is not None:
            log.debug("credentials for %s from %s", registry, path)
            return found
    return None


def run_credential_helper(name: str, server: str) -> Credentials | None:
    """``docker-credential-NAME get`` with ``server`` on stdin; None when it has nothing."""
    program = f"docker-credential-{name}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise CredentialError(f"credential helper {program} is not installed") from None
    except subprocess.TimeoutExpired:
        raise CredentialError(f"credential helper {program} did not answer") from None
    return _helper_answer(program, server, done.returncode, done.stdout)


def _helper_answer(program: str, server: str, code: int, out: bytes) -> Credentials | None:
    if code != 0:
        if b"credentials not found" in out.lower():
            return None
        raise CredentialError(f"credential helper {program} failed for {server} (exit {code})")
    try:
        doc = json.loads(out)
        user, secret = str(doc["Username"]), str(doc["Secret"])
    except (ValueError, KeyError, TypeError):
        raise CredentialError(f"credential helper {program} gave no Username/Secret") from None
    if user == _IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(user, secret)


def basic_authorization(creds: Credentials | None) -> str:
    """The ``Authorization`` header value of Basic auth; empty without credentials."""
    if creds is None:
        return ""
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()
