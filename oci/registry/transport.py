"""HTTP to one registry: scheme detection, TLS, retries with backoff, Basic/Bearer auth."""

import base64
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3

from oci.document import MAX_DOCUMENT
from oci.registry.auth import Credentials, auth_file_paths, resolve_credentials
from oci.registry.challenge import Challenge, parse_challenges
from oci.registry.errors import AuthenticationError, RegistryError, describe_response
from oci.registry.options import RegistryOptions, cert_dir_for
from oci.registry.reference import Reference
from oci.registry.tls import ContextAdapter, is_loopback, ssl_context

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRY_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_TOKEN_MARGIN = 10.0
_DEFAULT_TOKEN_LIFETIME = 60.0
_MAX_RETRY_AFTER = 60.0
# Answers read whole (manifests, indexes, tokens, errors) are read up to this, no further.
MAX_ANSWER = MAX_DOCUMENT

Body = Callable[[], Any]
T = TypeVar("T")


class Retryable(Exception):
    """A failed attempt worth repeating (``with_retries`` catches it)."""

    response: requests.Response | None = None


class RetryableStatus(Retryable):
    """A response worth another try (429, 5xx); carries the response."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class _Token:
    value: str
    expires: float


def repo_scope(repository: str, actions: str = "pull,push") -> str:
    return f"repository:{repository}:{actions}"


def credentials_for(ref: Reference, options: RegistryOptions) -> Credentials | None:
    """``--creds``, else the first auth file entry for the reference's registry/repository."""
    return resolve_credentials(
        ref.registry,
        ref.repository,
        creds=options.creds,
        auth_files=auth_file_paths(options.authfile, options.env),
        run_helper=options.run_helper,
        required_file=options.authfile,
    )


_CONTACT = "contacting the registry"


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


class RegistryClient:
    """A session with one registry (``host[:port]`` as the API sees it).

    Thread-safe: uploads of several blobs may run through one client at once.
    """

    def __init__(
        self,
        registry: str,
        options: RegistryOptions,
        credentials: Credentials | None,
        *,
        towards: str = "to",
    ) -> None:
        self.registry = registry
        # Errors read "STEP to WHERE" for pushes, "STEP from WHERE" for pulls.
        self.towards = towards
        self.options = options
        self._credentials = credentials
        self._session = self._make_session()
        self._base: str | None = None
        self._challenge: Challenge | None = None
        self._tokens: dict[frozenset[str], _Token] = {}
        self._lock = threading.Lock()
        self._ping_lock = threading.Lock()
        self._unreachable: RegistryError | None = None

    def _make_session(self) -> requests.Session:
        if not self.options.tls_verify:
            # The user turned verification off; urllib3 would warn on every request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        context = ssl_context(self.options.tls_verify, cert_dir_for(self.options, self.registry))
        session = requests.Session()
        session.trust_env = False  # no .netrc credentials slipping in
        session.proxies.update(self.options.proxies)
        session.headers["User-Agent"] = self.options.user_agent
        adapter = ContextAdapter(context, pool_size=max(4, self.options.parallel * 2))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        self._session.close()

    # -- retries -----------------------------------------------------------------------

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        after = response.headers.get("Retry-After") if response is not None else None
        if after and after.strip().isdigit():
            return min(float(after), _MAX_RETRY_AFTER)
        ceiling = min(self.options.max_backoff, self.options.backoff * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def with_retries(
        self, step: str, where: str, action: Callable[[], T], towards: str | None = None
    ) -> T:
        """Run ``action``; again with backoff on resets, 429 and 5xx, each retry reported,
        for at most ``retries`` more attempts and ``timeout`` seconds after the first
        failure. A timeout is not retried: the registry has been silent that long."""
        attempts = self.options.retries + 1
        first_failure: float | None = None
        for attempt in range(attempts):
            try:
                return action()
            except requests.Timeout as err:
                why, response, final = _silence(err, self.options.timeout), None, True
            except RETRY_EXCEPTIONS as err:  # a certificate refused stays refused
                why, response, final = explain(err), None, _is_cert_failure(err)
            except Retryable as err:
                response, why, final = err.response, _why(err), False
            except requests.RequestException as err:  # an answer too big, a bad URL
                why, response, final = explain(err), None, True
            now = time.monotonic()
            first_failure = first_failure if first_failure is not None else now
            delay = self._delay(attempt, response)
            late = now + delay > first_failure + self.options.timeout
            if final or late or attempt + 1 == attempts:
                status = response.status_code if response is not None else None
                tried = f" (after {attempt + 1} attempts)" if attempt else ""
                raise RegistryError(
                    step, where, f"{why}{tried}", status, towards=towards or self.towards
                )
            log.warning(
                "%s %s %s: %s; retrying in %.1fs (attempt %d of %d)",
                step,
                towards or self.towards,
                where,
                why,
                delay,
                attempt + 2,
                attempts,
            )
            time.sleep(delay)
        raise AssertionError("unreachable")

    # -- endpoint detection ------------------------------------------------------------

    def _schemes(self) -> list[str]:
        insecure = not self.options.tls_verify or is_loopback(self.registry)
        return ["https", "http"] if insecure else ["https"]

    def _ping_scheme(self, scheme: str) -> requests.Response:
        return self._http("GET", f"{scheme}://{self.registry}/v2/")

    def _ping_once(self) -> None:
        schemes = self._schemes()
        for index, scheme in enumerate(schemes):
            try:
                response = self._ping_scheme(scheme)
            except RETRY_EXCEPTIONS as err:
                if _is_cert_failure(err) or index + 1 == len(schemes):
                    raise
                log.debug("%s://%s: %s; trying %s", scheme, self.registry, explain(err), "http")
                continue
            if response.status_code in RETRY_STATUS:
                raise RetryableStatus(response)
            self._base = f"{scheme}://{self.registry}"
            self._learn_challenge(response)
            return

    def ping(self) -> None:
        """Find the scheme (HTTPS; HTTP only when insecure or loopback) and auth scheme."""
        with self._ping_lock:
            if self._unreachable is not None:  # the other threads need not wait it out again
                raise self._unreachable
            if self._base is None:
                try:
                    self.with_retries(_CONTACT, self.registry, self._ping_once, towards="at")
                except RegistryError as exc:
                    self._unreachable = exc
                    raise

    def _learn_challenge(self, response: requests.Response) -> None:
        if response.status_code == 401:
            challenge = _pick_challenge(response)
            if challenge is None:
                raise AuthenticationError(
                    _CONTACT, self.registry, "401 without a usable challenge", 401, towards="at"
                )
            self._challenge = challenge
        elif response.status_code not in (200, 404):
            why = describe_response(response.status_code, response.reason, response.content)
            status = response.status_code
            raise RegistryError(_CONTACT, self.registry, why, status, towards="at")

    def url(self, path: str) -> str:
        self.ping()
        return f"{self._base}{path}"

    def _http(
        self, method: str, url: str, *, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        """One request, never waiting more than ``timeout`` for a connection or a read;
        unless ``stream``, its answer read here, refused past MAX_ANSWER bytes."""
        timeout = self.options.timeout
        response = self._session.request(
            method, url, timeout=(timeout, timeout), allow_redirects=False, stream=True, **kwargs
        )
        if not stream:
            _read_capped(response, timeout)
        return response

    # -- authorization -----------------------------------------------------------------

    def _authorization(self, scopes: Collection[str], rejected: str | None = None) -> str | None:
        """The Authorization header for ``scopes``; a new token if ``rejected`` was ours."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return _basic(self._credentials) if self._credentials else None
        with self._lock:
            key = frozenset(scopes)
            token = self._tokens.get(key)
            stale = token is not None and f"Bearer {token.value}" == rejected
            if stale or token is None or token.expires <= time.monotonic():
                token = self._fetch_token(challenge, key)
                self._tokens[key] = token
        return f"Bearer {token.value}"

    def _fetch_token(self, challenge: Challenge, scopes: frozenset[str]) -> _Token:
        realm = challenge.realm
        if not realm:
            raise AuthenticationError(
                "getting a token",
                self.registry,
                "Bearer challenge has no realm",
                401,
                towards=self.towards,
            )
        return self.with_retries(
            "getting a token", self.registry, lambda: self._token_request(challenge, scopes)
        )

    def _token_request(self, challenge: Challenge, scopes: frozenset[str]) -> _Token:
        creds = self._credentials
        params: dict[str, Any] = {"scope": sorted(scopes)}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        realm = challenge.params["realm"]
        if creds is not None and creds.identity_token:
            form = {
                **params,
                "scope": " ".join(sorted(scopes)),
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": self.options.user_agent,
            }
            response = self._http("POST", realm, data=form)
        else:
            headers = {"Authorization": _basic(creds)} if creds else {}
            response = self._http("GET", realm, params=params, headers=headers)
        return self._token_from(response, realm)

    def _token_from(self, response: requests.Response, realm: str) -> _Token:
        if response.status_code in RETRY_STATUS:
            raise RetryableStatus(response)
        where = f"{self.registry} (token service {urlsplit(realm).netloc})"
        if response.status_code in (401, 403):
            why = describe_response(response.status_code, response.reason, response.content)
            raise AuthenticationError(
                "getting a token", where, why, response.status_code, towards=self.towards
            )
        try:
            doc = response.json()
            value = doc.get("token") or doc.get("access_token")
            lifetime = float(doc.get("expires_in") or _DEFAULT_TOKEN_LIFETIME)
        except (ValueError, AttributeError):
            value = None
        if response.status_code != 200 or not value:
            why = f"{response.status_code} {response.reason}: no token in the answer"
            raise RegistryError(
                "getting a token", where, why, response.status_code, towards=self.towards
            )
        log.debug("token from %s valid for %.0fs", urlsplit(realm).netloc, lifetime)
        return _Token(str(value), time.monotonic() + max(lifetime - _TOKEN_MARGIN, 1.0))

    # -- requests ----------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body | None,
        auth: str | None,
        stream: bool = False,
    ) -> requests.Response:
        all_headers = dict(headers)
        if auth and urlsplit(url).netloc == self.registry:
            all_headers["Authorization"] = auth
        data = body() if body is not None else None
        try:
            response = self._http(method, url, headers=all_headers, data=data, stream=stream)
        finally:
            if hasattr(data, "close"):
                data.close()
        log.debug("%s %s -> %d", method, url.split("?", 1)[0], response.status_code)
        return response

    def _send_authorized(
        self,
        method: str,
        url: str,
        scopes: Sequence[str],
        headers: Mapping[str, str],
        body: Body | None,
        stream: bool = False,
    ) -> requests.Response:
        auth = self._authorization(scopes)
        response = self._send(method, url, headers, body, auth, stream)
        if response.status_code != 401:
            return response
        challenge = _pick_challenge(response)
        if challenge is None:
            return response
        response.close()
        if self._challenge is None or challenge.scheme != self._challenge.scheme:
            self._challenge, auth = challenge, None
        wanted = [*scopes, *_uncovered(challenge.params.get("scope", ""), scopes)]
        return self._send(method, url, headers, body, self._authorization(wanted, auth), stream)

    def request(
        self,
        method: str,
        path: str,
        *,
        step: str,
        where: str,
        scopes: Sequence[str] = (),
        expected: Collection[int] = (200,),
        headers: Mapping[str, str] | None = None,
        body: Body | None = None,
        retry: bool = True,
        stream: bool = False,
    ) -> requests.Response:
        """Send ``method`` to ``path`` (or a full URL); raise unless the status is expected.

        ``body`` is called for every attempt, so a retry reads the data afresh. With
        ``stream``, the answer's body is left to be read (and the response closed) by the
        caller.
        """
        url = path if "://" in path else self.url(path)

        def attempt() -> requests.Response:
            response = self._send_authorized(method, url, scopes, headers or {}, body, stream)
            if response.status_code in RETRY_STATUS and response.status_code not in expected:
                raise RetryableStatus(response)
            return response

        response = self.with_retries(step, where, attempt) if retry else attempt()
        if response.status_code not in expected:
            raise _status_error(step, where, response, self._credentials is not None, self.towards)
        return response


class AnswerTooBig(requests.RequestException):
    """An answer longer than a document can be (not retried: it would be again)."""


def _read_capped(response: requests.Response, timeout: float) -> None:
    """Read the answer's body into the response, refusing to go past MAX_ANSWER bytes or
    to take more than ``timeout`` seconds in all (a document is small)."""
    chunks, total = [], 0
    deadline = time.monotonic() + timeout
    try:
        for chunk in response.iter_content(1 << 16):
            total += len(chunk)
            if total > MAX_ANSWER:
                raise AnswerTooBig(f"the answer is over {MAX_ANSWER >> 20} MiB")
            if time.monotonic() > deadline:
                raise requests.Timeout(f"the answer took over {timeout:g}s to arrive")
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)  # what requests' .content, .json() read


def _silence(err: BaseException, timeout: float) -> str:
    if isinstance(err, requests.ConnectTimeout):
        return f"no connection in {timeout:g}s (see --timeout)"
    if "took over" in str(err):
        return f"{err} (see --timeout)"
    return f"no answer in {timeout:g}s (see --timeout)"


def _why(err: Retryable) -> str:
    if err.response is None:
        return str(err)
    response = err.response
    return describe_response(response.status_code, response.reason, response.content)


def _status_error(
    step: str, where: str, response: requests.Response, had_credentials: bool, towards: str
) -> RegistryError:
    why = describe_response(response.status_code, response.reason, response.content)
    if response.status_code == 401:
        hint = "credentials were refused" if had_credentials else "no credentials found"
        why = f"{why} ({hint}; see --creds, --authfile)"
        return AuthenticationError(step, where, why, 401, towards=towards)
    if response.status_code == 403:
        return AuthenticationError(step, where, why, 403, towards=towards)
    return RegistryError(step, where, why, response.status_code, towards=towards)


def _uncovered(asked: str, scopes: Sequence[str]) -> list[str]:
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


def _pick_challenge(response: requests.Response) -> Challenge | None:
    challenges = parse_challenges(response.headers.get("WWW-Authenticate", ""))
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def _basic(creds: Credentials | None) -> str:
    if creds is None:
        return ""
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _is_cert_failure(err: BaseException) -> bool:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(err)
