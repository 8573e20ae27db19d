"""Hourly pull against the BigCommerce simulator, through PullSyncFunction on the local stack.

Cursor mode: keyset paging on (date_modified, id), a checkpoint per page. Audit mode: a hash sweep
against a snapshot in the state table. The simulator stores date_modified to the second and sorts ties
by id, like the live API.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime
from typing import Any

import boto3
import pytest

from catalog_sync.connections import BigCommerceEndpoint, ConnectionsDocument
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.connectors.paging import Page
from catalog_sync.jobs import audit_pull, pull_changes
from catalog_sync.jobs.sources import listing_pages
from catalog_sync.store.queue import SyncQueue
from catalog_sync.store.snapshots import SnapshotStore
from catalog_sync.store.state import StateStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from tests.integration.conftest import CONNECTION, queued

T0 = 1_795_000_000.0


class Killed(Exception):
    """The Lambda was killed (timeout, crash) in the middle of a pull."""


class KilledAfter:
    """A source that answers `pages` list requests, then the process dies."""

    def __init__(self, source: BigCommerceClient, pages: int) -> None:
        self.source, self.left = source, pages

    def list_products(self, **kwargs: Any) -> Page:
        if self.left == 0:
            raise Killed
        self.left -= 1
        return self.source.list_products(**kwargs)


def frozen_clock(store: BigCommerceStore, start: float = T0) -> list[float]:
    """Control the simulator's clock: `now[0] = ...` moves it (date_modified is kept to the second)."""
    now = [start]
    store.catalog.clock = lambda: now[0]
    return now


_serial = itertools.count()


def create(store: BigCommerceStore, count: int, prefix: str = "P") -> list[int]:
    numbers = [next(_serial) for _ in range(count)]
    return [
        store.create_product({"name": f"{prefix} {n}", "sku": f"{prefix}-{n}", "price": 1, "weight": 1})["id"]
        for n in numbers
    ]


def pull(box: Sandbox) -> dict[str, Any]:
    result = box.runtime.invoke("PullSyncFunction", {"connection": CONNECTION})
    [report] = result["connections"]
    assert "error" not in report, report
    return dict(report)


def test_records_sharing_one_date_modified_across_a_page_boundary_are_pulled_exactly_once(
    sandbox: Sandbox,
) -> None:
    store = sandbox.source_store(CONNECTION)
    now = frozen_clock(store)
    ties = create(store, 10, "TIE")  # all stamped in the same second
    now[0] += 1
    later = create(store, 2, "LATER")
    sandbox.update_connection(CONNECTION, schedule={"page_size": 4})

    report = pull(sandbox)
    first = Counter(r.entity_id for r in queued(sandbox))

    assert report["complete"] and report["pages"] > 3
    assert first == Counter(ties + later)  # every one, each once


def test_a_pull_killed_after_page_3_resumes_at_page_4(sandbox: Sandbox) -> None:
    store = sandbox.source_store(CONNECTION)
    now = frozen_clock(store)
    ids = []
    for _ in range(15):
        now[0] += 1
        ids += create(store, 1)
    sandbox.update_connection(CONNECTION, schedule={"page_size": 3})
    endpoint = BigCommerceEndpoint.model_validate(sandbox.connection(CONNECTION)["source"])
    state = StateStore(sandbox.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    queue = SyncQueue(sandbox.stack.queues["SyncQueue"].url, boto3.client("sqs"))

    with pytest.raises(Killed):
        pull_changes(
            CONNECTION,
            KilledAfter(BigCommerceClient.for_endpoint(endpoint), pages=3),
            queue,
            state,
            page_size=3,
            overlap_s=300,
            now=datetime.now().astimezone(),
            time_left_s=lambda: 300.0,
        )
    before = [r.entity_id for r in queued(sandbox)]
    resumed = pull(sandbox)
    after = [r.entity_id for r in queued(sandbox)]

    assert before == ids[:7]  # pages 1-3 (each page after the first re-reads its boundary item)
    assert after == ids[7:]  # page 4 on: nothing of pages 1-3 again, nothing skipped
    assert resumed["complete"]


class Recorder:
    """SyncQueue stand-in for the 1,000-product sweep (moto's SQS slows down quadratically with depth)."""

    def __init__(self) -> None:
        self.sent: list[SyncRequest] = []

    def send_many(self, requests: Any) -> int:
        batch = list(requests)
        self.sent.extend(batch)
        return len(batch)


def test_audit_mode_on_1000_products_enqueues_exactly_the_changed_new_and_vanished(sandbox: Sandbox) -> None:
    store = sandbox.source_store(CONNECTION)
    ids = create(store, 1_000, "AUD")
    sandbox.update_connection(CONNECTION, schedule={"pull_mode": "audit", "page_size": 250})
    connection = ConnectionsDocument.parse(sandbox.connections_doc).get(CONNECTION)
    dynamodb = boto3.client("dynamodb")
    table = sandbox.stack.resources["SyncStateTable"]
    snapshots, checkpoints = SnapshotStore(table, dynamodb), StateStore(table, dynamodb)

    def sweep() -> tuple[Any, Recorder]:
        queue = Recorder()
        report = audit_pull(
            CONNECTION,
            listing_pages(connection, 250),
            snapshots,
            queue,
            checkpoints,
            now=datetime.now().astimezone(),
            time_left_s=lambda: 300.0,
        )
        return report, queue

    built, first = sweep()
    assert (built.mode, built.enqueued, len(first.sent)) == ("audit", 1_000, 1_000)  # builds the snapshot
    changed = ids[100:1000:90]
    for pid in changed:
        store.update_product(pid, price=2)
    vanished = ids[5:8]
    for pid in vanished:
        store.delete_product(pid)
    new = create(store, 2, "NEW")

    report, queue = sweep()

    assert len(changed) == 10
    assert sorted(r.entity_id for r in queue.sent if r.action == "upsert") == sorted(changed + new)
    assert sorted(r.entity_id for r in queue.sent if r.action == "delete") == vanished
    assert (report.enqueued, report.deleted, report.complete) == (15, 3, True)
    assert len(snapshots.load(CONNECTION, "audit")) == 1_000 - 3 + 2
    assert sweep()[1].sent == []


def test_audit_deletes_become_soft_deletes_at_the_destination(sandbox: Sandbox) -> None:
    store = sandbox.source_store(CONNECTION)
    [keep, drop] = create(store, 2, "SOFT")
    skus = {pid: (store.get_product(pid) or {})["sku"] for pid in (keep, drop)}
    sandbox.update_connection(CONNECTION, schedule={"pull_mode": "audit"})
    pull(sandbox)
    sandbox.settle()
    store.delete_product(drop)

    pull(sandbox)
    sandbox.settle()

    shown = {p["sku"]: p["is_visible"] for p in sandbox.destination_store(CONNECTION).products()}
    assert shown == {skus[keep]: True, skus[drop]: False}


def test_an_audit_pull_restores_a_product_hidden_after_a_transient_404(sandbox: Sandbox) -> None:
    store = sandbox.source_store(CONNECTION)
    [pid] = create(store, 1, "BLINK")
    sandbox.update_connection(CONNECTION, schedule={"pull_mode": "audit"})
    pull(sandbox)
    sandbox.settle()
    store.fail_next("GET", rf"/catalog/products/{pid}$", status=404)  # the source blinks during a sync
    boto3.client("sqs").send_message(
        QueueUrl=sandbox.stack.queues["SyncQueue"].url,
        MessageBody=SyncRequest(
            connection=CONNECTION, entity_type="product", entity_id=pid
        ).model_dump_json(),
    )
    sandbox.settle()
    assert [p["is_visible"] for p in sandbox.destination_store(CONNECTION).products()] == [False]

    pull(sandbox)  # the listing is unchanged, but B holds only a tombstone of a product A lists
    sandbox.settle()

    assert [p["is_visible"] for p in sandbox.destination_store(CONNECTION).products()] == [True]


def test_a_connection_with_pulls_switched_off_is_skipped(sandbox: Sandbox) -> None:
    create(sandbox.source_store(CONNECTION), 1)
    sandbox.update_connection(CONNECTION, schedule={"pull_enabled": False})

    result = sandbox.runtime.invoke("PullSyncFunction", {})

    assert [r for r in result["connections"] if r["connection"] == CONNECTION] == [
        {"connection": CONNECTION, "skipped": "pull disabled"}
    ]
    assert queued(sandbox) == []
