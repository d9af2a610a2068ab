"""HTTP to one registry: scheme detection, TLS, retries with backoff, Basic/Bearer auth."""

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3

from oci.registry.answers import (
    RETRY_EXCEPTIONS,
    RETRY_STATUS,
    Retryable,
    RetryableStatus,
    read_capped,
    silence,
    why_retried,
)
from oci.registry.auth import (
    Credentials,
    auth_file_paths,
    basic_authorization,
    resolve_credentials,
)
from oci.registry.challenge import Challenge, pick_challenge, uncovered_scopes
from oci.registry.errors import (
    AuthenticationError,
    RegistryError,
    describe_response,
    explain,
    is_cert_failure,
    status_error,
)
from oci.registry.options import RegistryOptions, cert_dir_for
from oci.registry.reference import Reference
from oci.registry.tls import ContextAdapter, is_loopback, ssl_context

log = logging.getLogger(__name__)

_TOKEN_MARGIN = 10.0
_DEFAULT_TOKEN_LIFETIME = 60.0
_MAX_RETRY_AFTER = 60.0

Body = Callable[[], Any]
T = TypeVar("T")


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
                why, response, final = silence(err, self.options.timeout), None, True
            except RETRY_EXCEPTIONS as err:  # a certificate refused stays refused
                why, response, final = explain(err), None, is_cert_failure(err)
            except Retryable as err:
                response, why, final = err.response, why_retried(err), False
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
                if is_cert_failure(err) or index + 1 == len(schemes):
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
            challenge = pick_challenge(response.headers.get("WWW-Authenticate", ""))
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
            read_capped(response, timeout)
        return response

    # -- authorization -----------------------------------------------------------------

    def _authorization(self, scopes: Collection[str], rejected: str | None = None) -> str | None:
        """The Authorization header for ``scopes``; a new token if ``rejected`` was ours."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return basic_authorization(self._credentials) if self._credentials else None
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
            headers = {"Authorization": basic_authorization(creds)} if creds else {}
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
        challenge = pick_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return response
        response.close()
        if self._challenge is None or challenge.scheme != self._challenge.scheme:
            self._challenge, auth = challenge, None
        wanted = [*scopes, *uncovered_scopes(challenge.params.get("scope", ""), scopes)]
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
            raise status_error(step, where, response, self._credentials is not None, self.towards)
        return response
