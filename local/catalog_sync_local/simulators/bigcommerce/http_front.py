"""The HTTP front of the simulated store: one request through auth, rate limit, failure injection and routes.

Order, as the live API behaves: a path outside `/stores/{store_hash}/v3` is 404; a wrong `X-Auth-Token` is
401 (not counted against the quota); a spent quota is 429 and the request is not performed; a request the
official spec refuses is refused (`simulators.bigcommerce.contract`: 422 for its body, 400 for its query);
then an injected failure, if one matches, answers instead of the route. Every answer carries the
`X-Rate-Limit-*` headers, is checked against the spec and is recorded in the request log.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from catalog_sync_local.simulators.bigcommerce.contract import ContractMonitor
from catalog_sync_local.simulators.bigcommerce.fields import ApiError
from catalog_sync_local.simulators.bigcommerce.routes import Request, Routes
from catalog_sync_local.simulators.bigcommerce.spec import Operation, find_operation
from catalog_sync_local.simulators.shared.http_server import FailureInjector

logger = logging.getLogger(__name__)


class RequestRecord(NamedTuple):
    method: str
    path: str  # relative to the v3 base, without the query string
    status: int


class RateLimiter:
    """A fixed window of `window_ms` per store allowing `quota` requests, timed by the injected clock."""

    def __init__(self, quota: int, window_ms: int, clock: Callable[[], float]) -> None:
        self.quota = quota
        self.window_ms = window_ms
        self.clock = clock
        self._lock = threading.Lock()
        self._window_start_ms: float | None = None
        self._used = 0

    def take(self, *, consume: bool = True) -> tuple[bool, dict[str, str]]:
        """(allowed, headers). A request refused (or not consumed) does not count."""
        with self._lock:
            now_ms = self.clock() * 1000.0
            if self._window_start_ms is None or now_ms >= self._window_start_ms + self.window_ms:
                self._window_start_ms, self._used = now_ms, 0
            allowed = self._used < self.quota
            if allowed and consume:
                self._used += 1
            reset_ms = max(0, int(self._window_start_ms + self.window_ms - now_ms))
            headers = {
                "X-Rate-Limit-Requests-Left": str(self.quota - self._used),
                "X-Rate-Limit-Requests-Quota": str(self.quota),
                "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
                "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            }
            return allowed, headers


class App:
    def __init__(
        self,
        *,
        store_hash: str,
        access_token: str,
        routes: Routes,
        limiter: RateLimiter,
        failures: FailureInjector,
        contract: ContractMonitor,
    ) -> None:
        self.prefix = f"/stores/{store_hash}/v3"
        self.contract = contract
        self.access_token = access_token
        self.routes = routes
        self.limiter = limiter
        self.failures = failures
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()

    def request_log(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def handle(
        self, method: str, target: str, auth_token: str | None, raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        path = url.path[len(self.prefix) :] if url.path.startswith(self.prefix + "/") else url.path
        query = parse_qsl(url.query, keep_blank_values=True)
        status, body, extra, op = self._answer(method, path, url.path != path, query, auth_token or "", raw)
        if op is not None:
            self.contract.check_response(op, method, path, status, body)
        with self._log_lock:
            self._log.append(RequestRecord(method, path, status))
        payload = b"" if body is None else json.dumps(body).encode()
        return status, {"Content-Type": "application/json", **extra}, payload

    def _answer(
        self, method: str, path: str, in_store: bool, query: list[tuple[str, str]], token: str, raw: bytes
    ) -> tuple[int, Any, dict[str, str], Operation | None]:
        """(status, body, headers, the spec operation whose answer this is: None when not an API call)."""
        if not in_store:
            return 404, ApiError(404, "The requested resource was not found.").body(), {}, None
        if not hmac.compare_digest(token.encode(), self.access_token.encode()):
            _, limits = self.limiter.take(consume=False)
            refused = ApiError(401, "Unauthorized: a valid X-Auth-Token is required").body()
            return 401, refused, limits, find_operation(method, path)
        allowed, limits = self.limiter.take()
        if not allowed:
            spent = ApiError(429, "Too many requests: the rate limit quota is spent").body()
            return 429, spent, limits, find_operation(method, path)
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            op = self.contract.unreadable_request(method, path)
            return 400, ApiError(400, "The request body is not valid JSON").body(), limits, op
        op, refusal = self.contract.check_request(method, path, query, body)
        if refusal is not None:
            return refusal.status, refusal.body(), limits, op
        injected = self.failures.take(method, path)
        if injected is not None:
            return injected, ApiError(injected, f"Injected failure ({injected})").body(), limits, op
        try:
            status, reply = self.routes.dispatch(Request(method, path, query, body))
        except ApiError as exc:
            return exc.status, exc.body(), limits, op
        except Exception as exc:  # a simulator bug: answer like a server error, with the cause
            logger.exception("simulated store failed on %s %s", method, path)
            return 500, ApiError(500, f"Internal error: {type(exc).__name__}: {exc}"[:300]).body(), limits, op
        return status, reply, limits, op
