"""Only finished events expire: the TTL can never remove an event nothing has synced yet."""

from __future__ import annotations

import time

import boto3

from catalog_sync.store.events import EventRecord, EventStore
from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION


def _store(box: Sandbox, clock: float) -> EventStore:
    return EventStore(
        box.stack.resources["EventsTable"], boto3.client("dynamodb"), retention_days=7, clock=lambda: clock
    )


def _record(delivery_id: str, status: str = "received") -> EventRecord:
    return EventRecord(
        connection=CONNECTION,
        delivery_id=delivery_id,
        status=status,  # type: ignore[arg-type]
        scope="store/product/updated",
        received_at_ms=int(time.time() * 1000),
        entity_type="product",
        entity_id=1,
        action="upsert",
    )


def test_received_events_carry_no_ttl_until_processed(sandbox: Sandbox) -> None:
    now = time.time()
    store = _store(sandbox, now)
    assert store.put_new(_record("pending"))
    assert store.put_new(_record("noise", status="ignored"))

    by_id = {e["sk"]: e for e in sandbox.events()}
    assert "expires_at" not in by_id["pending"]
    assert by_id["noise"]["expires_at"] == int(now) + 7 * 86_400

    store.mark_processed(CONNECTION, "pending", "updated")
    processed = {e["sk"]: e for e in sandbox.events()}["pending"]
    assert processed["status"] == "processed"
    assert processed["expires_at"] == int(now) + 7 * 86_400


def test_failed_events_keep_no_ttl(sandbox: Sandbox) -> None:
    store = _store(sandbox, time.time())
    store.put_new(_record("broken"))
    store.mark_failed(CONNECTION, "broken", "permanent: bad data")

    [event] = sandbox.events()
    assert (event["status"], event["attempts"]) == ("failed", 1)
    assert "expires_at" not in event


def test_a_failure_reported_after_the_event_was_processed_leaves_it_processed(sandbox: Sandbox) -> None:
    # A duplicate SQS delivery of a message that already synced fails (the lease is held, say):
    # the event must still read processed, not failed.
    store = _store(sandbox, time.time())
    store.put_new(_record("synced"))
    store.mark_processed(CONNECTION, "synced", "updated")

    store.mark_failed(CONNECTION, "synced", "lease_held: product 1 is being synced by another worker")

    event = store.get(CONNECTION, "synced")
    assert event is not None and (event.status, event.outcome) == ("processed", "updated")


def test_status_updates_never_create_an_event_that_is_not_stored(sandbox: Sandbox) -> None:
    # A retry arriving after the event expired must not leave a half record without its fields.
    store = _store(sandbox, time.time())

    store.mark_processed(CONNECTION, "expired", "unchanged")
    store.mark_failed(CONNECTION, "expired-too", "boom")

    assert store.get(CONNECTION, "expired") is None
    assert store.get(CONNECTION, "expired-too") is None
