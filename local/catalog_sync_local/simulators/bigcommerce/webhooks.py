"""Webhooks of the simulated store: the `/hooks` registry (webhooks.v3.yml) and signed delivery.

A delivery is the BigCommerce payload `{scope, store_id, data, hash, created_at, producer}` POSTed with the
hook's custom `headers` and, when the store has a `whsec_...` secret, Standard Webhooks headers
(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
One background thread delivers in order, retrying a failed delivery a few times with a short backoff. Only
loopback destinations are contacted; any other is recorded as refused.

As webhooks.v3.yml says, a hook is `scope`, `destination`, `is_active` and `headers`, all four required on
create and on update (a PUT replaces the hook), and its destination is served on port 443: an `https` URL
on the default port. The local runtime's receiver listens on plain http on a loopback port, so a store
made with `allow_loopback_http=True` also accepts `http://127.0.0.1:<port>` - and nothing else.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import requests

from catalog_sync_local.simulators.bigcommerce.fields import check_fields, invalid, not_found, require_object

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HOOK_FIELDS = {"scope": ("str", ""), "destination": ("str", ""), "is_active": ("bool", True)}
REQUIRED = ("scope", "destination", "is_active", "headers")


@dataclass
class Delivery:
    """One notification to one hook, and what became of it."""

    hook_id: int
    scope: str
    destination: str
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)  # the hook's custom headers
    status: int | None = None  # last HTTP status answered, None if never answered
    attempts: int = 0
    delivered: bool = False
    error: str | None = None


def scope_matches(pattern: str, scope: str) -> bool:
    """`store/product/*` matches `store/product/updated` (and deeper scopes); otherwise exact."""
    if pattern.endswith("/*"):
        return scope.startswith(pattern[:-1])
    return pattern == scope


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value for one secret."""
    encoded = secret.removeprefix("whsec_")
    key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and (parsed.hostname or "") in LOCAL_HOSTS


class Hooks:
    """The hook registry behind `/hooks` (its own lock: hooks are not catalog state)."""

    def __init__(
        self,
        *,
        store_hash: str,
        client_id: str,
        clock: Callable[[], float],
        allow_loopback_http: bool = False,
    ) -> None:
        self.store_hash = store_hash
        self.allow_loopback_http = allow_loopback_http
        self.client_id = client_id
        self.clock = clock
        self._lock = threading.Lock()
        self._hooks: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(18_048_287)

    def list_hooks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(h) for _, h in sorted(self._hooks.items())]

    def get(self, hook_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._hook(hook_id))

    def create(self, body: Any) -> dict[str, Any]:
        with self._lock:
            body = require_object(body)
            _validate(body, allow_loopback_http=self.allow_loopback_http)
            now = int(self.clock())
            hook = {
                "id": next(self._ids),
                "client_id": self.client_id,
                "store_hash": self.store_hash,
                "created_at": now,
                "updated_at": now,
                "scope": body["scope"],
                "destination": body["destination"],
                "is_active": body["is_active"],
                "headers": dict(body["headers"]),
            }
            self._hooks[hook["id"]] = hook
            return copy.deepcopy(hook)

    def update(self, hook_id: int, body: Any) -> dict[str, Any]:
        with self._lock:
            hook = self._hook(hook_id)
            body = require_object(body)
            _validate(body, allow_loopback_http=self.allow_loopback_http)
            hook |= {key: body[key] for key in ("scope", "destination", "is_active")}
            hook["headers"] = dict(body["headers"])
            hook["updated_at"] = int(self.clock())
            return copy.deepcopy(hook)

    def delete(self, hook_id: int) -> dict[str, Any]:
        with self._lock:
            return self._hooks.pop(self._hook(hook_id)["id"])

    def matching(self, scope: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(h)
                for _, h in sorted(self._hooks.items())
                if h["is_active"] and scope_matches(h["scope"], scope)
            ]

    def _hook(self, hook_id: int) -> dict[str, Any]:
        hook = self._hooks.get(hook_id)
        if hook is None:
            raise not_found("webhook", hook_id)
        return hook


def destination_error(url: str, *, allow_loopback_http: bool) -> str | None:
    """Why BigCommerce would refuse `url` as a hook destination (None: it would not)."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError:
        return "error.url.invalid"
    if not parsed.hostname:
        return "error.url.invalid"
    if parsed.scheme == "https" and port in (None, 443):
        return None
    if allow_loopback_http and parsed.scheme == "http" and parsed.hostname == "127.0.0.1":
        return None
    return "error.url.invalid: a destination is served over https on port 443"


def _validate(body: Mapping[str, Any], *, allow_loopback_http: bool) -> None:
    errors = check_fields(body, HOOK_FIELDS, required=REQUIRED)
    destination = body.get("destination")
    if isinstance(destination, str):
        problem = destination_error(destination, allow_loopback_http=allow_loopback_http)
        if problem:
            errors["destination"] = problem
    headers = body.get("headers")
    if "headers" in body and not (
        isinstance(headers, Mapping) and all(isinstance(v, str) for v in headers.values())
    ):
        errors["headers"] = "error.expected.jsobject"
    if errors:
        raise invalid(errors)


class Dispatcher:
    """Delivers queued notifications from one daemon thread; every wait is bounded."""

    def __init__(
        self,
        *,
        secret: str | None,
        max_attempts: int = 3,
        backoff_s: float = 0.05,
        timeout_s: float = 5.0,
    ) -> None:
        self.secret = secret
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._queue: queue.Queue[Delivery | None] = queue.Queue()  # None wakes the thread to stop
        self._records: list[Delivery] = []
        self._idle = threading.Condition()
        self._pending = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = itertools.count(1)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._idle:
            return [dataclasses.replace(d, payload=copy.deepcopy(d.payload)) for d in self._records]

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="bigcommerce-sim-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def enqueue(self, hook: Mapping[str, Any], payload: dict[str, Any]) -> None:
        delivery = Delivery(hook["id"], payload["scope"], hook["destination"], payload, dict(hook["headers"]))
        with self._idle:
            self._records.append(delivery)
            self._pending += 1
        self._queue.put(delivery)

    def pending(self) -> int:
        with self._idle:
            return self._pending

    def wait(self, timeout: float) -> bool:
        """Block until every queued delivery is finished (True) or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def _run(self) -> None:
        session = requests.Session()
        session.trust_env = False  # never route loopback deliveries through a proxy from the environment
        try:
            while not self._stopping.is_set():
                try:
                    delivery = self._queue.get(timeout=0.05)
                except queue.Empty:
                    continue
                if delivery is None:
                    continue
                try:
                    self._deliver(session, delivery)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()
        finally:
            session.close()

    def _deliver(self, session: requests.Session, delivery: Delivery) -> None:
        if not is_local(delivery.destination):
            self._update(delivery, error="refused: the simulator only delivers to loopback destinations")
            return
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        msg_id = self._message_id(delivery)
        for attempt in range(1, self.max_attempts + 1):
            if self._stopping.is_set():
                return
            headers = self._headers(delivery, body, msg_id)
            try:
                resp = session.post(delivery.destination, data=body, headers=headers, timeout=self.timeout_s)
            except requests.RequestException as exc:
                self._update(delivery, attempts=attempt, error=f"{type(exc).__name__}: {exc}"[:300])
            else:
                ok = 200 <= resp.status_code < 300
                self._update(delivery, attempts=attempt, status=resp.status_code, delivered=ok, error=None)
                if ok:
                    return
            if attempt < self.max_attempts:
                self._stopping.wait(self.backoff_s * 2 ** (attempt - 1))

    def _message_id(self, delivery: Delivery) -> str:
        """One id per delivery, kept across its retries (the receiver's dedup key)."""
        return f"msg_{delivery.payload['hash'][:24]}{next(self._seq)}"

    def _headers(self, delivery: Delivery, body: bytes, msg_id: str) -> dict[str, str]:
        """An attempt's headers: Standard Webhooks signs each attempt with a fresh timestamp."""
        headers = {"Content-Type": "application/json", **delivery.headers}
        if self.secret:
            timestamp = int(time.time())  # receivers compare it with their wall clock
            headers |= {
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self.secret, msg_id, timestamp, body),
            }
        return headers

    def _update(self, delivery: Delivery, **changes: Any) -> None:
        with self._idle:
            for key, value in changes.items():
                setattr(delivery, key, value)


class DeliveryLog:
    """What a simulated store with a `_dispatcher` tells tests and the demo about its webhook deliveries."""

    _dispatcher: Dispatcher

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery queued so far, in order."""
        return self._dispatcher.deliveries

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued webhook delivery is done; False if `timeout` seconds pass first."""
        return self._dispatcher.wait(timeout)

    def pending_deliveries(self) -> int:
        """Webhook deliveries queued or in flight (retries included)."""
        return self._dispatcher.pending()
