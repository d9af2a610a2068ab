"""Parsing ``WWW-Authenticate`` headers (RFC 7235) as registries send them, choosing the
challenge to answer and the scopes it asks for beyond those held."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})\s*")
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*')
_QUOTED_PAIR_RE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Challenge:
    """One challenge: a lower-case scheme (``basic``, ``bearer``) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def _parse_params(header: str, pos: int) -> tuple[dict[str, str], int]:
    params: dict[str, str] = {}
    while pos < len(header):
        match = _PARAM_RE.match(header, pos)
        if not match:
            break
        quoted, bare = match.group(2), match.group(3)
        value = _QUOTED_PAIR_RE.sub(r"\1", quoted) if quoted is not None else bare
        params[match.group(1).lower()] = value
        pos = match.end()
        if pos < len(header) and header[pos] == ",":
            pos += 1
    return params, pos


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in ``header``; unparsable trailing text is ignored."""
    challenges: list[Challenge] = []
    pos = 0
    while pos < len(header):
        if header[pos] in ", ":
            pos += 1
            continue
        match = _SCHEME_RE.match(header, pos)
        if not match:
            break
        params, pos = _parse_params(header, match.end())
        challenges.append(Challenge(match.group(1).lower(), params))
    return challenges


def pick_challenge(header: str) -> Challenge | None:
    """The challenge to answer from a ``WWW-Authenticate`` header: Bearer before Basic."""
    challenges = parse_challenges(header)
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def uncovered_scopes(asked: str, scopes: Sequence[str]) -> list[str]:
    """Scopes a challenge asks for that ``scopes`` do not already grant."""
    granted: dict[str, set[str]] = {}
    for scope in scopes:
        resource, _, actions = scope.rpartition(":")
        granted.setdefault(resource, set()).update(actions.split(","))
    missing = []
    for scope in asked.split():
        resource, _, actions = scope.rpartition(":")
        if not set(actions.split(",")) <= granted.get(resource, set()):
            missing.append(scope)
    return missing
