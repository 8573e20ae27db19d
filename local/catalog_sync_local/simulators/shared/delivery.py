"""Webhook delivery, shared by the store simulators: one background thread POSTs each queued notification
in order, with Standard Webhooks headers when the store has a `whsec_...` secret (`webhook-id`,
`webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), retrying a
failed delivery a few times with a short backoff. Only loopback destinations are contacted; any other is
recorded as refused. Each simulator shapes its own payloads (BigCommerce's, Pixlpay's, our Medusa
subscriber's) in a Dispatcher subclass or before `enqueue`.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlparse

import requests

from catalog_sync_local.simulators.shared.http_server import ServedSimulator

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


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


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value for one secret."""
    encoded = secret.removeprefix("whsec_")
    key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and (parsed.hostname or "") in LOCAL_HOSTS


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
            self._thread = threading.Thread(target=self._run, name="sim-webhooks", daemon=True)
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


class DeliveringSimulator(ServedSimulator):
    """A store simulator that sends webhooks through a `_dispatcher` (started and stopped with it), and
    what it tells tests and the demo about those deliveries."""

    _dispatcher: Dispatcher

    def start(self) -> Self:
        super().start()
        self._dispatcher.start()
        return self

    def stop(self) -> None:
        """Stop serving and delivering (each within about two seconds)."""
        super().stop()
        self._dispatcher.stop()

    @property
    def delivery_timeout_s(self) -> float:
        """How long a webhook delivery waits for the receiver's answer before it counts as failed."""
        return self._dispatcher.timeout_s

    @delivery_timeout_s.setter
    def delivery_timeout_s(self, seconds: float) -> None:
        self._dispatcher.timeout_s = seconds

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
