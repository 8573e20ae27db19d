"""A rate-limit-aware JSON HTTP client shared by every connector.

It paces itself from BigCommerce's `X-Rate-Limit-*` headers (and `Retry-After` elsewhere) so the quota
is spent evenly rather than hitting 429s, retries 429/5xx/timeouts with full-jitter backoff inside a
deadline (the Lambda's remaining time), and classifies what is left: retriable vs permanent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from catalog_sync.errors import PermanentError, RetriableError, Throttled

RETRIABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class HttpStatusError(PermanentError):
    """A 4xx the caller may want to inspect (404, 409, 422). Permanent unless the caller decides."""

    code = "http_status"

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> {status}: {body[:300]}")
        self.status = status
        self.body = body


class RetriesExhausted(RetriableError):
    code = "retries_exhausted"


@dataclass
class RateLimitState:
    """What the last response told us about the quota window."""

    left: int | None = None
    reset_at: float = 0.0  # monotonic time at which the window resets
    quota: int | None = None


@dataclass
class JsonHttpClient:
    base_url: str
    headers: Mapping[str, str]
    max_attempts: int = 6
    timeout_s: float = 10.0
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 8.0
    # Requests kept in reserve in each window (for other apps sharing the store's quota).
    reserve: int = 0
    # Client-side spacing between requests (a connection's own share of the quota, e.g. Pixlpay's
    # 60 requests a minute -> 1.0 s); 0 = only the server's headers pace us.
    min_interval_s: float = 0.0
    deadline: Callable[[], float] | None = None  # monotonic time after which we stop retrying
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    session: requests.Session = field(default_factory=requests.Session)
    limits: RateLimitState = field(default_factory=RateLimitState)
    requests_sent: int = 0
    _last_sent: float | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request; return the decoded JSON body (None for 204)."""
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        for attempt in range(1, self.max_attempts + 1):
            self._pace()
            timeout = self._timeout(f"{method} {url}")
            try:
                self.requests_sent += 1
                self._last_sent = self.clock()
                resp = self.session.request(
                    method, url, params=params, json=json, headers=dict(self.headers), timeout=timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                self._backoff(attempt, None, f"{method} {url}: {type(exc).__name__}")
                continue
            self._observe(resp)
            if resp.status_code in RETRIABLE_STATUS:
                wait = self._server_wait(resp)
                if resp.status_code == 429 and attempt >= self.max_attempts:
                    # The store's "later" to the last: the sync comes back then rather than failing.
                    raise Throttled(
                        f"{method} {url} -> 429 on all {attempt} attempts", after_s=wait or self.backoff_cap_s
                    )
                self._backoff(attempt, wait, f"{method} {url} -> {resp.status_code}")
                continue
            if resp.status_code >= 400:
                raise HttpStatusError(method, url, resp.status_code, resp.text)
            if resp.status_code == 204 or not resp.content:
                return None
            return resp.json()
        raise RetriesExhausted(f"{method} {url}: gave up after {self.max_attempts} attempts")

    # --- pacing -------------------------------------------------------------------------------------

    def _observe(self, resp: requests.Response) -> None:
        left = _int_header(resp, "X-Rate-Limit-Requests-Left")
        reset_ms = _int_header(resp, "X-Rate-Limit-Time-Reset-Ms")
        if left is not None and reset_ms is not None:  # BigCommerce
            self.limits.left = left
            self.limits.reset_at = self.clock() + reset_ms / 1000.0
            self.limits.quota = _int_header(resp, "X-Rate-Limit-Requests-Quota")
            return
        remaining = _int_header(resp, "X-RateLimit-Remaining")  # Laravel-style (Pixlpay)
        if remaining is not None:
            self.limits.left = remaining
            self.limits.quota = _int_header(resp, "X-RateLimit-Limit")
            reset_epoch = _int_header(resp, "X-RateLimit-Reset")
            retry_after = _int_header(resp, "Retry-After")
            if retry_after is not None:
                self.limits.reset_at = self.clock() + retry_after
            elif reset_epoch is not None:
                self.limits.reset_at = self.clock() + max(0.0, reset_epoch - time.time())
            elif remaining <= self.reserve:
                self.limits.reset_at = self.clock() + 1.0  # unknown window: probe again shortly

    def _pace(self) -> None:
        """Space requests by `min_interval_s`; wait for the window to reset once the quota (less the
        reserve) is spent."""
        if self.min_interval_s > 0 and self._last_sent is not None:
            gap = self._last_sent + self.min_interval_s - self.clock()
            if gap > 0:
                self._sleep_within_deadline(gap, "request spacing")
        if self.limits.left is None or self.limits.left > self.reserve:
            return
        wait = self.limits.reset_at - self.clock()
        if wait > 0:
            self._sleep_within_deadline(wait, "rate limit window", asked_s=wait)
        self.limits.left = None  # unknown until the next response tells us

    def _timeout(self, what: str) -> float:
        """The request timeout, never past the deadline (a hung socket must not outlive the Lambda)."""
        if self.deadline is None:
            return self.timeout_s
        remaining = self.deadline() - self.clock()
        if remaining <= 0.05:
            raise RetriableError(f"{what}: the deadline (the invocation's or the lease's) has passed")
        return min(self.timeout_s, remaining)

    # --- retries ------------------------------------------------------------------------------------

    def _server_wait(self, resp: requests.Response) -> float | None:
        if resp.status_code == 429:
            reset_ms = _int_header(resp, "X-Rate-Limit-Time-Reset-Ms")
            if reset_ms is not None:
                return reset_ms / 1000.0
        retry_after = resp.headers.get("Retry-After")
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        return None

    def _backoff(self, attempt: int, server_wait: float | None, what: str) -> None:
        if attempt >= self.max_attempts:
            raise RetriesExhausted(f"{what}: gave up after {attempt} attempts")
        jitter = random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1)))  # noqa: S311
        self._sleep_within_deadline((server_wait or 0.0) + jitter, what, asked_s=server_wait)

    def _sleep_within_deadline(self, seconds: float, what: str, *, asked_s: float | None = None) -> None:
        """Sleep, unless that would pass the deadline: then Throttled when the store asked for the wait
        (`asked_s`: the sync is to come back then), else RetriableError."""
        if self.deadline is not None and self.clock() + seconds > self.deadline():
            message = (
                f"{what}: waiting {seconds:.1f}s would pass the deadline (the invocation's or the lease's)"
            )
            if asked_s is not None:
                raise Throttled(message, after_s=seconds)
            raise RetriableError(message)
        self.sleep(seconds)


def _int_header(resp: requests.Response, name: str) -> int | None:
    value = resp.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
