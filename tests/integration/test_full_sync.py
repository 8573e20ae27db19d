"""The daily full sync on the local stack: a hash sweep that continues in fresh invocations through
FullSyncContinuationQueue, enqueues only what changed, and soft-deletes what the source lost.

FullSyncMinTimeSeconds = the function's timeout makes every invocation stop after one page, so a run
over five pages is one start plus four continuations - each a separate invocation of the handler.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from catalog_sync.jobs import FULL_SYNC_JOB
from catalog_sync.store.progress import ProgressStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from tests.conftest import EVENTS
from tests.integration.conftest import CONNECTION, queued

_serial = itertools.count()


@pytest.fixture
def box() -> Iterator[Sandbox]:
    overrides = {"FullSyncPageSize": "5", "FullSyncMinTimeSeconds": "900"}
    with Sandbox(register_webhooks=False, parameter_overrides=overrides) as sandbox:
        yield sandbox


def create(store: BigCommerceStore, count: int) -> list[int]:
    numbers = [next(_serial) for _ in range(count)]
    return [
        store.create_product({"name": f"Full {n}", "sku": f"FULL-{n}", "price": 1, "weight": 1})["id"]
        for n in numbers
    ]


def consume(box: Sandbox, requests: list[SyncRequest]) -> list[SyncRequest]:
    """Put requests taken off the queue back, and let the consumer sync them."""
    sqs = boto3.client("sqs")
    for request in requests:
        sqs.send_message(QueueUrl=box.stack.queues["SyncQueue"].url, MessageBody=request.model_dump_json())
    box.settle()
    return requests


def run_full_sync(box: Sandbox) -> tuple[dict[str, Any], int]:
    """Start a full sync and let the continuation queue drive it to the end; (first report, continuations)."""
    [started] = box.runtime.invoke("FullSyncFunction", {"connection": CONNECTION})["connections"]
    continued = box.runtime.drain("FullSyncFunction", max_batches=50, max_seconds=60)
    return started, continued.succeeded


def progress(box: Sandbox) -> dict[str, Any]:
    record = ProgressStore(box.stack.resources["SyncStateTable"], boto3.client("dynamodb")).get(
        CONNECTION, FULL_SYNC_JOB
    )
    assert record is not None
    return record


def test_a_full_sync_cut_short_by_time_completes_on_continuation_without_skips_or_repeats(
    box: Sandbox,
) -> None:
    ids = create(box.source_store(CONNECTION), 23)

    started, continuations = run_full_sync(box)
    enqueued = Counter(r.entity_id for r in queued(box))

    assert started["outcome"] == "continue"
    # The store's (empty) category and brand listings first, then product pages 1..5: one page each.
    assert continuations == 6
    assert enqueued == Counter(ids)  # every product exactly once
    record = progress(box)
    assert (record["state"], record["pages"], record["seen"], record["changed"]) == ("done", 7, 23, 23)
    assert record["entities"]["product"] == {"pages": 5, "seen": 23, "changed": 23, "deleted": 0}
    assert record["invocations"] == 7 and record["errors"] == 0
    assert record["started_at"] <= record["finished_at"]


def test_a_second_full_sync_syncs_only_the_changed_and_soft_deletes_what_the_source_lost(
    box: Sandbox,
) -> None:
    source, destination = box.source_store(CONNECTION), box.destination_store(CONNECTION)
    ids = create(source, 12)
    run_full_sync(box)
    box.settle()
    late = create(source, 1)[0]  # synced by its webhook, never seen by a full sync
    box.runtime.invoke(
        "SyncConsumerFunction",
        {
            "Records": [
                {
                    "messageId": "m1",
                    "receiptHandle": "r1",
                    "body": SyncRequest(
                        connection=CONNECTION, entity_type="product", entity_id=late
                    ).model_dump_json(),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": box.stack.queues["SyncQueue"].arn,
                }
            ]
        },
    )
    source.update_product(ids[3], price=7)
    source.delete_product(ids[8])
    source.delete_product(late)
    writes_before = sum(1 for r in destination.request_log if r.method != "GET")

    run_full_sync(box)
    requests = consume(box, queued(box))

    assert sorted((r.entity_id, r.action) for r in requests) == sorted(
        [(ids[3], "upsert"), (ids[8], "delete"), (late, "delete")]
    )
    writes = [r for r in destination.request_log if r.method != "GET"][writes_before:]
    assert len(writes) == 3  # one update, two soft deletes: nothing for the 10 unchanged products
    shown = {p["sku"]: (p["is_visible"], p["price"]) for p in destination.products()}
    assert shown[source.get_product(ids[3])["sku"]] == (True, 7)  # type: ignore[index]
    assert sum(1 for visible, _ in shown.values() if not visible) == 2


def test_the_sample_events_start_a_run_and_ignore_a_stale_continuation(sandbox: Sandbox) -> None:
    events = EVENTS / "full_sync"
    create(sandbox.source_store(CONNECTION), 2)

    [started] = sandbox.runtime.invoke(
        "FullSyncFunction", json.loads((events / "manual_start.json").read_text())
    )["connections"]
    [stale] = sandbox.runtime.invoke(
        "FullSyncFunction", json.loads((events / "continuation.json").read_text())
    )["connections"]

    assert (started["outcome"], started["enqueued"]) == ("done", 2)
    assert (stale["outcome"], stale["reason"]) == ("skipped", "stale continuation")


def test_a_full_sync_catches_missed_category_and_brand_changes(box: Sandbox) -> None:
    source, destination = box.source_store(CONNECTION), box.destination_store(CONNECTION)
    kitchen = source.create_category({"name": "Kitchen", "parent_id": 0})["id"]
    mugs = source.create_category({"name": "Mugs", "parent_id": kitchen})["id"]
    seasonal = source.create_category({"name": "Seasonal", "parent_id": kitchen})["id"]
    acme = source.create_brand({"name": "Acme"})["id"]
    source.create_product(
        {"name": "Mug", "sku": "MUG", "price": 5, "weight": 1, "categories": [mugs], "brand_id": acme}
    )

    def sync() -> list[SyncRequest]:
        run_full_sync(box)
        return consume(box, queued(box))

    sync()
    source.update_category(mugs, {"name": "Cups"})  # no webhooks registered: these changes are missed
    source.delete_category(seasonal)
    source.update_brand(acme, {"name": "Acme Co"})

    requests = sync()

    assert sorted((r.entity_type, r.entity_id, r.action) for r in requests) == sorted(
        [("category", mugs, "upsert"), ("category", seasonal, "delete"), ("brand", acme, "upsert")]
    )
    categories = {c["name"]: c["is_visible"] for c in destination.categories()}
    assert categories == {"Kitchen": True, "Cups": True, "Seasonal": False}  # soft-deleted, not removed
    assert [b["name"] for b in destination.brands()] == ["Acme Co"]
    assert progress(box)["entities"]["category"]["deleted"] == 1


def test_a_product_hidden_after_a_transient_404_is_restored_by_the_next_full_sync(box: Sandbox) -> None:
    source, destination = box.source_store(CONNECTION), box.destination_store(CONNECTION)
    [product_id] = create(source, 1)
    run_full_sync(box)
    consume(box, queued(box))
    source.fail_next("GET", rf"/catalog/products/{product_id}$", status=404)  # the source blinks
    consume(box, [SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)])
    assert [p["is_visible"] for p in destination.products()] == [False]

    run_full_sync(box)
    requests = consume(box, queued(box))

    assert [(r.entity_id, r.action) for r in requests] == [(product_id, "upsert")]
    assert [p["is_visible"] for p in destination.products()] == [True]
