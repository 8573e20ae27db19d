"""EventCleanupFunction on the local stack: expires processed events, never deletes unprocessed ones,
re-enqueues stuck ones (which the consumer then processes)."""

from __future__ import annotations

import time

import boto3

from catalog_sync.store.events import EventRecord, EventStore
from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION

DAY_MS = 86_400_000


def store_event(box: Sandbox, delivery_id: str, status: str, age_ms: int, entity_id: int = 1) -> None:
    events = EventStore(box.stack.resources["EventsTable"], boto3.client("dynamodb"))
    events.put_new(
        EventRecord(
            connection=CONNECTION,
            delivery_id=delivery_id,
            status=status,  # type: ignore[arg-type]
            scope="store/product/updated",
            received_at_ms=int(time.time() * 1000) - age_ms,
            entity_type="product",
            entity_id=entity_id,
            action="upsert",
        )
    )


def statuses(box: Sandbox) -> dict[str, str]:
    return {e["sk"]: e["status"] for e in box.events()}


def test_cleanup_deletes_only_expired_processed_events_and_never_an_unprocessed_one(sandbox: Sandbox) -> None:
    store_event(sandbox, "old-processed", "processed", 30 * DAY_MS)
    store_event(sandbox, "old-ignored", "ignored", 30 * DAY_MS)
    store_event(sandbox, "new-processed", "processed", DAY_MS)
    store_event(sandbox, "old-received", "received", 30 * DAY_MS)
    store_event(sandbox, "old-failed", "failed", 30 * DAY_MS)

    report = sandbox.runtime.invoke("EventCleanupFunction", {})

    assert report["expired_deleted"] == 2
    assert statuses(sandbox) == {
        "new-processed": "processed",
        "old-received": "received",
        "old-failed": "failed",
    }


def test_a_stuck_event_is_reenqueued_and_then_processed(sandbox: Sandbox) -> None:
    product = sandbox.source_store(CONNECTION).create_product(
        {"name": "Stuck", "sku": "STUCK-1", "price": 3, "weight": 1}
    )
    store_event(sandbox, "stuck", "received", 3_600_000, entity_id=product["id"])
    store_event(sandbox, "in-flight", "received", 1_000, entity_id=product["id"])

    report = sandbox.runtime.invoke("EventCleanupFunction", {})
    sandbox.settle()

    assert report["requeued"] == 1
    assert statuses(sandbox) == {"stuck": "processed", "in-flight": "received"}
    assert [p["sku"] for p in sandbox.destination_store(CONNECTION).products()] == ["STUCK-1"]
