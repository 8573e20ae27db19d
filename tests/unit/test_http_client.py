"""JsonHttpClient: pacing from the quota headers before the quota is gone, Retry-After honoured, retries
with backoff inside the deadline, and errors classified (retriable vs permanent).

Time is simulated where waiting is the point: the store simulator and the client share a fake clock that
only the client's sleeps advance, so BigCommerce's real quota (150 requests / 30 s) is exercised in full
at the simulator's speed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from catalog_sync.connections import BigCommerceEndpoint
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.connectors.http import HttpStatusError, JsonHttpClient, RetriesExhausted
from catalog_sync.errors import PermanentError, RetriableError, Throttled
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore
from catalog_sync_local.simulators.shared.json_server import JsonServer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def client_for(base: str, fake: FakeTime | None = None, **kwargs: Any) -> JsonHttpClient:
    extra: dict[str, Any] = {"clock": fake.clock, "sleep": fake.sleep} if fake else {}
    return JsonHttpClient(base_url=base, headers={"X-Auth-Token": "t"}, **extra, **kwargs)


def test_2000_requests_under_the_real_quota_never_hit_a_429_and_use_the_window() -> None:
    fake = FakeTime()
    with BigCommerceStore("s1", "t", quota=150, window_ms=30_000, clock=fake.clock) as store:
        client = client_for(store.v3_base, fake)
        start = fake.clock()
        for _ in range(2000):
            client.request("GET", "catalog/brands")
        elapsed = fake.clock() - start
        statuses = [s for _, _, s in store.request_log]

    assert statuses.count(429) == 0
    assert client.requests_sent == 2000
    ceiling = 150 / 30.0
    # 2000 requests need 13 full windows plus part of a 14th: 390 s at the ceiling rate
    assert elapsed <= 2000 / ceiling + 30
    assert (2000 / max(elapsed, 1e-9)) / ceiling >= 0.95


def test_a_shared_quota_spent_by_someone_else_is_a_429_then_waits_for_the_reset() -> None:
    fake = FakeTime()
    with BigCommerceStore("s1", "t", quota=10, window_ms=30_000, clock=fake.clock) as store:
        other = client_for(store.v3_base, fake)
        ours = client_for(store.v3_base, fake)
        for _ in range(10):
            other.request("GET", "catalog/brands")  # another app spends the window
        ours.request("GET", "catalog/brands")
        assert [s for _, _, s in store.request_log][-2:] == [429, 200]
    assert fake.sleeps and fake.sleeps[0] >= 29.0  # X-Rate-Limit-Time-Reset-Ms of the 429


def test_a_429_whose_window_resets_past_the_deadline_is_throttled_until_the_reset() -> None:
    """Waiting out the window would outlive the sync's lease: the sync is to come back at the reset
    (Throttled, which the consumer defers) rather than fail as a retry would (found by make chaos)."""
    fake = FakeTime()
    with BigCommerceStore("s1", "t", quota=10, window_ms=30_000, clock=fake.clock) as store:
        other = client_for(store.v3_base, fake)
        for _ in range(10):
            other.request("GET", "catalog/brands")  # another app spends the window
        deadline = fake.clock() + 10.0  # what is left of the sync's lease
        ours = client_for(store.v3_base, fake, deadline=lambda: deadline)
        with pytest.raises(Throttled) as info:
            ours.request("GET", "catalog/brands")

    assert 29.0 <= info.value.after_s <= 32.0  # X-Rate-Limit-Time-Reset-Ms of the 429, and a jitter
    assert fake.sleeps == []


def test_a_store_still_throttling_after_every_attempt_is_throttled_not_failed() -> None:
    """A 429 is the store's "later", whoever spent its quota (other apps, our other consumers): when
    every attempt is refused so, the sync is to come back (Throttled, which the consumer defers) instead
    of spending one of its message's receives on the way to the DLQ (found by make chaos, 20 x 1,000)."""
    fake = FakeTime()
    with BigCommerceStore("s1", "t", clock=fake.clock) as store:
        store.fail_next("GET", r"/catalog/brands", status=429, times=6)
        client = client_for(store.v3_base, fake)
        with pytest.raises(Throttled) as info:
            client.request("GET", "catalog/brands")

    assert client.requests_sent == client.max_attempts
    assert 0 < info.value.after_s <= 30.0  # the last 429's X-Rate-Limit-Time-Reset-Ms: come back then


def test_a_store_failing_every_attempt_with_5xx_is_retries_exhausted() -> None:
    fake = FakeTime()
    with BigCommerceStore("s1", "t", clock=fake.clock) as store:
        store.fail_next("GET", r"/catalog/brands", status=503, times=6)
        client = client_for(store.v3_base, fake)
        with pytest.raises(RetriesExhausted):
            client.request("GET", "catalog/brands")


def test_a_connections_reserve_and_rate_cap_shape_its_share_of_the_quota() -> None:
    fake = FakeTime()
    with BigCommerceStore("s1", "t", quota=150, window_ms=30_000, clock=fake.clock) as store:
        endpoint = BigCommerceEndpoint(
            store_hash="s1",
            access_token=SecretStr("t"),
            api_url=store.api_url,
            quota_reserve=50,
            max_requests_per_second=10,
        )
        client = BigCommerceClient.for_endpoint(endpoint).http
        client.clock, client.sleep = fake.clock, fake.sleep
        start = fake.clock()
        for _ in range(101):
            client.request("GET", "catalog/brands")
        elapsed = fake.clock() - start

    # 100 requests per window (150 less the reserve of 50), 0.1 s apart: the 101st waits for the reset.
    assert [s for _, _, s in store.request_log].count(429) == 0
    assert all(abs(s - 0.1) < 1e-6 for s in fake.sleeps[:99])
    assert elapsed == pytest.approx(30.0, abs=0.01)


@pytest.fixture
def scripted() -> Iterator[tuple[JsonServer, list[tuple[int, dict[str, str], float]]]]:
    """A server answering from a script of (status, headers, delay seconds); 200 when the script is done."""
    script: list[tuple[int, dict[str, str], float]] = []

    def handler(
        method: str, path: str, query: Any, body: Any, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        status, extra, delay = script.pop(0) if script else (200, {}, 0.0)
        if delay:
            time.sleep(delay)
        return status, {"data": {"status": status}}, extra

    server = JsonServer(handler, "scripted")
    server.start()
    yield server, script
    server.stop()


def test_retry_after_is_honoured(scripted: tuple[JsonServer, list[Any]]) -> None:
    server, script = scripted
    script.append((429, {"Retry-After": "7"}, 0.0))
    fake = FakeTime()
    client = client_for(f"http://127.0.0.1:{server.port}", fake)
    assert client.request("GET", "x") == {"data": {"status": 200}}
    assert fake.sleeps[0] >= 7.0


def test_5xx_and_timeouts_are_retried_then_succeed(scripted: tuple[JsonServer, list[Any]]) -> None:
    server, script = scripted
    script.extend([(503, {}, 0.0), (200, {}, 0.5), (500, {}, 0.0)])  # a 503, a timeout, a 500, then 200
    fake = FakeTime()
    client = client_for(f"http://127.0.0.1:{server.port}", fake, timeout_s=0.2)
    assert client.request("GET", "x") == {"data": {"status": 200}}
    assert client.requests_sent == 4
    assert len(fake.sleeps) == 3  # a backoff before each retry


def test_a_4xx_is_permanent_and_not_retried(scripted: tuple[JsonServer, list[Any]]) -> None:
    server, script = scripted
    script.append((422, {}, 0.0))
    client = client_for(f"http://127.0.0.1:{server.port}", FakeTime())
    with pytest.raises(HttpStatusError) as info:
        client.request("POST", "x", json={})
    assert isinstance(info.value, PermanentError) and info.value.status == 422
    assert client.requests_sent == 1


def test_retries_stop_at_the_deadline_and_are_retriable(scripted: tuple[JsonServer, list[Any]]) -> None:
    server, script = scripted
    script.extend([(503, {"Retry-After": "5"}, 0.0)] * 10)
    fake = FakeTime()
    deadline = fake.clock() + 12.0
    client = client_for(f"http://127.0.0.1:{server.port}", fake, deadline=lambda: deadline)
    with pytest.raises(RetriableError, match="deadline"):
        client.request("GET", "x")
    assert fake.clock() <= deadline
    assert client.requests_sent == 3  # a third wait of 5 s + jitter would pass the 12 s deadline


def test_retries_exhausted_is_retriable_for_the_queue(scripted: tuple[JsonServer, list[Any]]) -> None:
    server, script = scripted
    script.extend([(500, {}, 0.0)] * 3)
    client = client_for(f"http://127.0.0.1:{server.port}", FakeTime(), max_attempts=3)
    with pytest.raises(RetriesExhausted) as info:
        client.request("GET", "x")
    assert isinstance(info.value, RetriableError)


def test_pixlpay_rate_limit_headers_pace_the_client_without_429() -> None:
    fake = FakeTime()
    with PixlpayStore("tok", quota=5, window_s=60.0, clock=fake.clock) as store:
        store.create_product("One", 1)
        client = JsonHttpClient(
            base_url=store.base_url,
            headers={"Authorization": "Bearer tok"},
            clock=fake.clock,
            sleep=fake.sleep,
        )
        for _ in range(12):
            client.request("GET", "products/1")
        statuses = [s for _, _, s in store.request_log]
    assert 429 not in statuses[1:] or statuses.count(429) <= 2  # at most a probe per unknown window
    assert statuses.count(200) == 12
    assert fake.clock() - 1_000_000.0 >= 120.0  # 12 requests at 5 a minute span two resets
