"""What comes back from a registry: which failures are worth another try, answers read
whole (manifests, indexes, tokens, errors) capped in size and time, and what a failure
says."""

import time

import requests

from oci.document import MAX_DOCUMENT
from oci.registry.errors import describe_response

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRY_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
# Answers read whole are read up to this, no further.
MAX_ANSWER = MAX_DOCUMENT


class Retryable(Exception):
    """A failed attempt worth repeating (``with_retries`` catches it)."""

    response: requests.Response | None = None


class RetryableStatus(Retryable):
    """A response worth another try (429, 5xx); carries the response."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class AnswerTooBig(requests.RequestException):
    """An answer longer than a document can be (not retried: it would be again)."""


def read_capped(response: requests.Response, timeout: float) -> None:
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


def silence(err: BaseException, timeout: float) -> str:
    """What a timeout says: no connection, an answer too slow, or no answer at all."""
    if isinstance(err, requests.ConnectTimeout):
        return f"no connection in {timeout:g}s (see --timeout)"
    if "took over" in str(err):
        return f"{err} (see --timeout)"
    return f"no answer in {timeout:g}s (see --timeout)"


def why_retried(err: Retryable) -> str:
    """What a retried attempt met: its status and the registry's error, or its reason."""
    if err.response is None:
        return str(err)
    response = err.response
    return describe_response(response.status_code, response.reason, response.content)
