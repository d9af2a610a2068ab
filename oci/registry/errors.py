"""Registry errors: which registry, which step, and what the registry said; a failed
connection's cause in a few words."""

import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import requests

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


def _causes(err: BaseException) -> Iterator[BaseException]:
    """``err`` and what caused it: chained exceptions, urllib3's ``reason``, wrapped args."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        cause = todo.pop(0)
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        nexts = (getattr(cause, "reason", None), cause.__cause__, cause.__context__, *cause.args)
        todo.extend(n for n in nexts if isinstance(n, BaseException))


def explain(err: BaseException) -> str:
    """A short cause for a transport exception, without URLs' noise."""
    for cause in _causes(err):
        if isinstance(cause, ssl.SSLError | ConnectionResetError | TimeoutError):
            return f"{type(cause).__name__}: {cause}"
        if isinstance(cause, socket.gaierror):
            return f"the host name does not resolve ({cause.strerror})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
    text = str(err)
    return text.split(": ", 1)[-1] if "Max retries" in text else text or type(err).__name__


def is_cert_failure(err: BaseException) -> bool:
    """Whether a connection failed because the server's certificate was not trusted."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(err)


def status_error(
    step: str, where: str, response: requests.Response, had_credentials: bool, towards: str
) -> RegistryError:
    """The error of an unexpected response: an AuthenticationError for 401 and 403."""
    why = describe_response(response.status_code, response.reason, response.content)
    if response.status_code == 401:
        hint = "credentials were refused" if had_credentials else "no credentials found"
        why = f"{why} ({hint}; see --creds, --authfile)"
        return AuthenticationError(step, where, why, 401, towards=towards)
    if response.status_code == 403:
        return AuthenticationError(step, where, why, 403, towards=towards)
    return RegistryError(step, where, why, response.status_code, towards=towards)
