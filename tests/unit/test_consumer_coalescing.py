"""Copies of a hot entity's request that a later complete sync already did are acknowledged as `covered`,
without a read or a write at either store (make chaos, 20 x 1,000: a product edited many times at once
had dozens of queued copies; each copy's own sync kept its lease contended and store B throttled, and
one copy, deferred and retried past every budget, reached the DLQ).

"Later" is judged by the clocks: the sync took the entity's lease (and read the source) more than
CLOCK_SKEW_S after the request was queued. Only a complete sync counts: not a "stale" one (the source
answered with an older version than applied), not one that failed half-way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from catalog_sync.consumer import CLOCK_SKEW_S, SyncBatch
from catalog_sync.errors import RetriableError
from catalog_sync.settings import Settings
from catalog_sync.store.queue import SyncQueue
from catalog_sync.sync_request import SyncRequest
from tests.unit.test_engine_rig import CONNECTION, Rig, rig


@pytest.fixture
def r() -> Iterator[Rig]:
    yield from rig()


@dataclass
class Marks:
    processed: list[tuple[str, str]] = field(default_factory=list)

    def mark_processed(self, connection: str, delivery_id: str, outcome: str) -> None:
        self.processed.append((delivery_id, outcome))

    def mark_failed(self, connection: str, delivery_id: str, error: str) -> None:
        return None


@dataclass
class Services:
    """What the consumer uses, over the rig: its engine, its state table on moto, marks kept here."""

    r: Rig
    events: Marks = field(default_factory=Marks)
    dead_letters: Any = None
    settings: Settings = field(default_factory=lambda: Settings("events", "state", "https://sqs/q", "s"))

    @property
    def state(self) -> Any:
        return self.r.state

    def engine(self, connection: str, *, owner: str, deadline: Any) -> Any:
        return self.r.engine(owner)


def request(product_id: int, queued_at: float, delivery: str) -> str:
    return SyncRequest(
        connection=CONNECTION,
        entity_type="product",
        entity_id=product_id,
        delivery_id=delivery,
        queued_at=queued_at,
    ).model_dump_json()


def consume(services: Services, *bodies: str) -> list[str]:
    batch = SyncBatch(services, owner="worker-2", deadline=None)
    batch.sync_all(list(bodies))
    return [batch.handle(body) for body in bodies]


def a_product_in_sync(r: Rig) -> int:
    pid = int(
        r.a.create_product({"name": "Hot", "sku": "HOT-1", "type": "physical", "price": 1, "weight": 1})["id"]
    )
    r.clock.tick()
    r.engine().sync(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid))
    return pid


def test_copies_queued_before_a_later_complete_sync_are_acknowledged_without_touching_the_stores(
    r: Rig,
) -> None:
    pid = a_product_in_sync(r)
    queued = r.clock.now
    for price in (2, 3, 4):  # many edits, each a webhook: copies queued at once
        r.a.update_product(pid, price=price)
    r.clock.tick(CLOCK_SKEW_S + 1)
    r.engine("worker-1").sync(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid))
    assert r.b_product("HOT-1")["price"] == 4
    seen_a, seen_b = len(r.a.request_log), len(r.b.request_log)

    services = Services(r)
    actions = consume(services, *(request(pid, queued, f"d{n}") for n in range(3)))

    assert actions == ["covered"] * 3
    assert services.events.processed == [(f"d{n}", "covered") for n in range(3)]
    assert (len(r.a.request_log), len(r.b.request_log)) == (seen_a, seen_b)  # no read, no write


def test_a_request_queued_after_the_sync_took_its_lease_is_synced(r: Rig) -> None:
    pid = a_product_in_sync(r)
    r.a.update_product(pid, price=9)
    queued = r.clock.now - CLOCK_SKEW_S  # within the clocks' skew of the lease: not provably covered

    actions = consume(Services(r), request(pid, queued, "d1"))

    assert actions == ["updated"]
    assert r.b_product("HOT-1")["price"] == 9


def test_one_uncovered_copy_in_the_batch_syncs_the_entity_for_all(r: Rig) -> None:
    pid = a_product_in_sync(r)
    old = r.clock.now - 10
    r.a.update_product(pid, price=7)

    actions = consume(Services(r), request(pid, old, "d1"), request(pid, r.clock.now, "d2"))

    assert actions == ["updated", "updated"]
    assert r.b_product("HOT-1")["price"] == 7


def test_a_sync_that_failed_half_way_covers_nothing(r: Rig) -> None:
    pid = a_product_in_sync(r)
    synced_before = r.state.get(CONNECTION, "product", pid).synced_from  # type: ignore[union-attr]
    queued = r.clock.now
    r.a.update_product(pid, price=5)
    r.clock.tick(CLOCK_SKEW_S + 1)
    r.b.fail_next("PUT", r"/catalog/products.*", status=503, times=6)  # every attempt of one write
    with pytest.raises(RetriableError):
        r.engine("worker-1").sync(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid))
    assert r.state.get(CONNECTION, "product", pid).synced_from == synced_before  # type: ignore[union-attr]

    actions = consume(Services(r), request(pid, queued, "d1"))

    assert actions == ["updated"]
    assert r.b_product("HOT-1")["price"] == 5


def test_a_stale_answer_from_the_source_covers_nothing(r: Rig) -> None:
    """The source answered with a version older than the one applied (a lagging read): a later read may
    see more, so the requests queued before it still sync."""
    pid = a_product_in_sync(r)
    synced_before = r.state.get(CONNECTION, "product", pid).synced_from  # type: ignore[union-attr]
    current = r.state.get(CONNECTION, "product", pid)
    assert current is not None and current.source_modified
    r.state.acquire(CONNECTION, "product", pid, owner="w", lease_s=60)
    r.state.commit(replace(current, source_modified="2099-01-01T00:00:00+00:00"), owner="w")
    r.clock.tick(CLOCK_SKEW_S + 1)

    outcome = r.engine().sync(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid))

    assert outcome.action == "stale"
    assert r.state.get(CONNECTION, "product", pid).synced_from == synced_before  # type: ignore[union-attr]


def test_the_queue_stamps_when_a_request_was_first_queued_and_a_copy_keeps_it() -> None:
    sent: list[str] = []

    class Client:
        def send_message(self, QueueUrl: str, MessageBody: str, **_: Any) -> None:  # noqa: N803
            sent.append(MessageBody)

    queue = SyncQueue("https://sqs/q", Client(), clock=lambda: 1_700_000_000.5)
    queue.send(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=1))
    first = SyncRequest.model_validate_json(sent[0])
    queue.send(first.model_copy(update={"deferrals": 1}), delay_s=5)

    assert [SyncRequest.model_validate_json(b).queued_at for b in sent] == [1_700_000_000.5] * 2
