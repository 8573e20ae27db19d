"""Full sync: destination writes of a naive full sync (seed 000: upsert every product) / ours, on one
10,000-product catalog with 1% changed, measured in one run.

Run in process (moto's SQS slows down quadratically with queue depth, so 10,000 messages through the
local stack would measure moto): the real `full_sync` job sweeps a 10,000-product BigCommerce-shaped
listing with in-memory snapshot/progress/queue stores, and the real sync engine (its state in DynamoDB on
moto) applies what it enqueued against two BigCommerce store simulators (source and destination), whose
request logs count the writes.
Unchanged products are never fetched or written, so only the changed 1% reach the simulators.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from bench import create_state_table
from catalog_sync.connections import Connection
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.connectors.paging import Page
from catalog_sync.engine import CatalogSync
from catalog_sync.jobs import Sweep, full_sync
from catalog_sync.store.state import StateStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

SECTION = "full sync"
PRODUCTS = 10_000
CHANGED = 100  # 1%
PAGE = 250


class _Memory:
    """In-memory snapshot, progress and queue stores (the job takes Protocols)."""

    def __init__(self) -> None:
        self.snapshot: dict[int, str] = {}
        self.progress: dict[str, Any] | None = None
        self.sent: list[SyncRequest] = []

    def load(self, connection: str, namespace: str) -> dict[int, str]:
        return dict(self.snapshot)

    def put_many(self, connection: str, namespace: str, hashes: Mapping[int, str]) -> int:
        self.snapshot.update(hashes)
        return len(hashes)

    def delete_many(self, connection: str, namespace: str, ids: Iterable[int]) -> int:
        return sum(self.snapshot.pop(i, None) is not None for i in ids)

    def get(self, connection: str, job: str) -> dict[str, Any] | None:
        return self.progress

    def save(self, connection: str, job: str, data: dict[str, Any], *, expected_step: int | None) -> bool:
        self.progress = dict(data)
        return True

    def send_many(self, requests: Iterable[SyncRequest]) -> int:
        batch = list(requests)
        self.sent.extend(batch)
        return len(batch)


def _product(pid: int, price: float) -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"Bench {pid}",
        "sku": f"BENCH-{pid}",
        "type": "physical",
        "price": price,
        "weight": 1,
        "variants": [],
        "images": [],
        "date_modified": "2026-01-01T00:00:00+00:00",
    }


def run() -> dict[str, float]:
    catalog = {pid: _product(pid, 10.0) for pid in range(1, PRODUCTS + 1)}

    def fetch(number: int) -> Page:
        rows = [catalog[i] for i in sorted(catalog)[(number - 1) * PAGE : number * PAGE]]
        return Page(rows, number, math.ceil(len(catalog) / PAGE), len(catalog))

    # Naive (seed 000): page through everything, upsert each product at the destination.
    naive_writes = sum(len(fetch(n).items) for n in range(1, math.ceil(len(catalog) / PAGE) + 1))

    memory = _Memory()
    now = datetime.now(UTC)

    def sweep() -> None:
        report = full_sync(
            "bench",
            [Sweep("product", fetch, list)],
            memory,
            memory,
            memory,
            now=now,
            time_left_s=lambda: 1e9,
            restart=True,
        )
        assert report.outcome == "done", report

    sweep()  # the daily run that built the snapshot (destination in sync after it)
    changed = list(range(1, PRODUCTS + 1, PRODUCTS // CHANGED))
    with (
        mock_aws(),
        BigCommerceStore("benchsrc", "t-src", quota=100_000) as source,
        BigCommerceStore("benchdst", "t-dst", quota=100_000) as destination,
    ):
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb, "state")
        connection = Connection.model_validate(
            {
                "name": "bench",
                "source": {"store_hash": "benchsrc", "access_token": "t-src", "api_url": source.api_url},
                "destination": {
                    "store_hash": "benchdst",
                    "access_token": "t-dst",
                    "api_url": destination.api_url,
                },
                "signing": {"secrets": ["whsec_YmVuY2g="]},
            }
        )
        engine = CatalogSync(
            connection,
            BigCommerceClient.for_endpoint(connection.source),  # type: ignore[arg-type]
            BigCommerceClient.for_endpoint(connection.destination),  # type: ignore[arg-type]
            StateStore("state", dynamodb),
            owner="bench",
        )
        # The changed products exist in sync at both ends before the change (the rest never get touched).
        source_ids = {}
        for pid in changed:
            created = source.create_product(
                {
                    k: v
                    for k, v in catalog[pid].items()
                    if k not in ("id", "variants", "images", "date_modified")
                }
            )
            source_ids[pid] = created["id"]
            engine.sync_product(created["id"])
        for pid in changed:
            catalog[pid] = {**catalog[pid], "price": 12.5}
            source.update_product(source_ids[pid], price=12.5)
        memory.sent.clear()
        writes_before = sum(1 for r in destination.request_log if r.method != "GET")

        sweep()  # today's run: 1% changed
        for request in memory.sent:
            engine.sync_product(source_ids[request.entity_id])
        our_writes = sum(1 for r in destination.request_log if r.method != "GET") - writes_before
        assert sorted(r.entity_id for r in memory.sent) == changed
    return {
        "full_sync_write_ratio": naive_writes / max(1, our_writes),
        "full_sync_naive_writes": float(naive_writes),
        "full_sync_our_writes": float(our_writes),
        "full_sync_enqueued": float(len(memory.sent)),
    }
