"""A record whose entity another worker is syncing (LeaseHeld) is queued again, later, and acknowledged:
lease contention on a hot entity must not spend the message's receives and park it in the DLQ (found by
make chaos, issue 13: five consumers, many edits of a few products)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from catalog_sync.consumer import DEFER_FOR_S, MAX_DEFERRALS, SyncBatch
from catalog_sync.entity_sync import SyncOutcome
from catalog_sync.errors import RetriableError, Throttled
from catalog_sync.settings import Settings
from catalog_sync.store.state import LeaseHeld
from catalog_sync.sync_request import SyncRequest


@dataclass
class FakeQueue:
    sent: list[tuple[SyncRequest, int]] = field(default_factory=list)
    delayed: list[tuple[str, int]] = field(default_factory=list)
    broken: bool = False

    def send(self, request: SyncRequest, *, delay_s: int = 0) -> None:
        if self.broken:
            raise ConnectionError("SQS unavailable")
        self.sent.append((request, delay_s))

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self.delayed.append((receipt_handle, seconds))


@dataclass
class FakeEvents:
    marks: list[tuple[str, str]] = field(default_factory=list)

    def mark_processed(self, connection: str, delivery_id: str, outcome: str) -> None:
        self.marks.append(("processed", delivery_id))

    def mark_failed(self, connection: str, delivery_id: str, error: str) -> None:
        self.marks.append(("failed", delivery_id))


class Engine:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def sync(self, request: SyncRequest) -> SyncOutcome:
        if self.error is not None:
            raise self.error
        return SyncOutcome("product", request.entity_id, "updated")


@dataclass
class FakeServices:
    engine_error: Exception | None
    queue: FakeQueue = field(default_factory=FakeQueue)
    events: FakeEvents = field(default_factory=FakeEvents)
    dead_letters: Any = None
    settings: Settings = field(
        default_factory=lambda: Settings(
            "events", "state", "https://sqs.local/q", "secret", retry_backoff_base_s=30
        )
    )

    def engine(self, connection: str, *, owner: str, deadline: Any) -> Engine:
        return Engine(self.engine_error)


def _body(deferrals: int = 0, queued_at: float | None = None) -> str:
    request = SyncRequest(
        connection="store-a-to-b",
        entity_type="product",
        entity_id=7,
        delivery_id="msg_1",
        deferrals=deferrals,
        queued_at=queued_at,
    )
    return request.model_dump_json()


def test_a_record_that_lost_the_lease_is_queued_again_later_and_acknowledged() -> None:
    services = FakeServices(engine_error=LeaseHeld("product 7 is leased to worker-2"))
    batch = SyncBatch(services, owner="worker-1", deadline=None)

    action = batch.handle(_body(), receive_count=1, receipt_handle="rh-1")

    assert action == "deferred"
    [(copy, delay)] = services.queue.sent
    assert (copy.entity_id, copy.delivery_id, copy.deferrals) == (7, "msg_1", 1)
    assert 15 <= delay <= 30  # the retry backoff's first step (base 30 s)
    assert services.events.marks == [("failed", "msg_1")]  # the copy marks it processed once synced


def test_a_sync_the_store_throttled_past_its_lease_is_queued_again_for_the_stores_reset() -> None:
    """A 429 whose window resets after the lease ends (Throttled) is the store's "come back then", not
    a failure: spending a receive on each made a few throttled syncs of a hot product end in the DLQ
    (make chaos, 20 x 1,000)."""
    services = FakeServices(engine_error=Throttled("PUT /catalog/products/110 -> 429", after_s=30.3))
    batch = SyncBatch(services, owner="worker-1", deadline=None)

    action = batch.handle(_body(), receive_count=4, receipt_handle="rh-1")

    assert action == "deferred"
    [(copy, delay)] = services.queue.sent
    assert (copy.entity_id, copy.delivery_id, copy.deferrals) == (7, "msg_1", 1)
    assert 31 <= delay <= 34  # the store's reset, spread by up to a tenth
    assert services.queue.delayed == []  # the message is acknowledged, its receives untouched


def test_deferrals_back_off_and_end_in_an_ordinary_failure() -> None:
    services = FakeServices(engine_error=LeaseHeld("held"))

    SyncBatch(services, owner="w", deadline=None).handle(_body(deferrals=3), receipt_handle="rh")
    with pytest.raises(LeaseHeld):
        SyncBatch(services, owner="w", deadline=None).handle(
            _body(deferrals=MAX_DEFERRALS), receipt_handle="rh"
        )

    [(copy, delay)] = services.queue.sent
    assert copy.deferrals == 4 and delay == 120  # the backoff's 120-240 s, capped at one lease (120 s)
    assert services.queue.delayed == [("rh", services.queue.delayed[0][1])]  # the last one backs off as usual


def test_congestion_younger_than_the_deferral_window_is_deferred_past_the_count() -> None:
    """A hot product during a sustained burst (the store's quota the bottleneck): its copies were
    deferred 8 times and then spent their receives into the DLQ (make chaos, 20 x 1,000). Contention and
    throttling are congestion, not failure, for as long as DEFER_FOR_S after the request was queued."""
    now = 1_800_000_000.0
    services = FakeServices(engine_error=Throttled("PUT /catalog/products/230 -> 429", after_s=30))
    batch = SyncBatch(services, owner="w", deadline=None, clock=lambda: now)

    action = batch.handle(_body(deferrals=40, queued_at=now - DEFER_FOR_S + 60), receipt_handle="rh")

    assert action == "deferred"
    [(copy, _)] = services.queue.sent
    assert copy.deferrals == 41 and copy.queued_at == now - DEFER_FOR_S + 60


def test_congestion_older_than_the_deferral_window_fails_as_any_other_failure() -> None:
    now = 1_800_000_000.0
    services = FakeServices(engine_error=LeaseHeld("held"))
    batch = SyncBatch(services, owner="w", deadline=None, clock=lambda: now)

    with pytest.raises(LeaseHeld):
        batch.handle(_body(deferrals=MAX_DEFERRALS, queued_at=now - DEFER_FOR_S - 1), receipt_handle="rh")

    assert services.queue.sent == []


def test_when_the_copy_cannot_be_queued_the_record_fails_and_comes_back() -> None:
    services = FakeServices(engine_error=LeaseHeld("held"))
    services.queue.broken = True

    with pytest.raises(LeaseHeld):
        SyncBatch(services, owner="w", deadline=None).handle(_body(), receipt_handle="rh")


def test_other_retriable_failures_still_spend_a_receive() -> None:
    services = FakeServices(engine_error=RetriableError("503 from the destination"))

    with pytest.raises(RetriableError):
        SyncBatch(services, owner="w", deadline=None).handle(_body(), receipt_handle="rh")

    assert services.queue.sent == []
