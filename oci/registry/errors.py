"""Registry errors: which registry, which step, and what the registry said."""

import json
from dataclasses import dataclass

from oci.errors import OciError

_MAX_DETAIL = 200


@dataclass(frozen=True)
class ErrorEntry:
    """One entry of the distribution spec's ``{"errors": [...]}`` body."""

    code: str
    message: str


def parse_error_body(body: bytes) -> list[ErrorEntry]:
    """The error entries of a response body; empty when it is not the spec's JSON."""
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    entries = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return []
    return [
        ErrorEntry(str(e.get("code", "")), str(e.get("message", "")))
        for e in entries
        if isinstance(e, dict)
    ]


def describe_response(status: int, reason: str, body: bytes) -> str:
    """``503 Service Unavailable`` or ``401 UNAUTHORIZED: authentication required``."""
    entries = parse_error_body(body)
    if entries:
        said = "; ".join(f"{e.code}: {e.message}" if e.message else e.code for e in entries)
        return f"{status} {said}"
    return f"{status} {reason}".strip()


class RegistryError(OciError):
    """A registry step that failed (after retries): ``STEP to REGISTRY/REPO: WHY``
    (``from`` instead of ``to`` for pulls)."""

    def __init__(
        self, step: str, where: str, why: str, status: int | None = None, *, towards: str = "to"
    ) -> None:
        why = " ".join(why.split())[:_MAX_DETAIL]
        super().__init__(f"{step} {towards} {where}: {why}")
        self.step = step
        self.where = where
        self.why = why
        self.status = status


class AuthenticationError(RegistryError):
    """The registry refused the credentials, or none were found and it needs some."""


class DigestMismatch(RegistryError):
    """The registry stored something other than what was sent."""
