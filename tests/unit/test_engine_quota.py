"""Under BigCommerce's real quota (150 requests / 30 s), a large sync paces itself: no product fails on a
429 and the quota windows it touches are spent, not wasted. Store B and the client share a VirtualTime,
so the work takes its real time and only the waits for a window to reset are skipped."""

from __future__ import annotations

import math

from moto import mock_aws
from pydantic import SecretStr

from catalog_sync.connections import Connection, Signing
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.engine import CatalogSync
from catalog_sync.entity_sync import SyncOutcome
from catalog_sync.store.state import StateStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from catalog_sync_local.simulators.shared.virtual_time import VirtualTime
from tests.unit.test_engine_rig import CONNECTION, TABLE, endpoint, make_state_table

PRODUCTS = 300
QUOTA, WINDOW_S = 150, 30


def test_300_products_sync_under_the_real_quota_without_429_failures_using_the_windows() -> None:
    vt = VirtualTime()
    with (
        mock_aws(),
        BigCommerceStore("storea", "token-a", quota=100_000) as a,
        BigCommerceStore("storeb", "token-b", quota=QUOTA, window_ms=WINDOW_S * 1000, clock=vt.now) as b,
    ):
        engine = _engine(a, b, vt)
        ids = [
            a.create_product({"name": f"Cup {n}", "sku": f"CUP-{n}", "price": 3, "weight": 1})["id"]
            for n in range(PRODUCTS)
        ]
        started = vt.now()

        results: dict[object, object] = {}
        for start in range(0, PRODUCTS, 10):
            batch = ids[start : start + 10]
            results.update(
                engine.sync_many(
                    [SyncRequest(connection=CONNECTION, entity_type="product", entity_id=i) for i in batch]
                )
            )

        elapsed = vt.now() - started
        statuses = [s for _, _, s in b.request_log]

    assert all(isinstance(r, SyncOutcome) and r.action == "created" for r in results.values())
    assert len(b.products()) == PRODUCTS
    assert vt.slept > 0  # the quota was reached and waited out, more than once
    windows = math.ceil(elapsed / WINDOW_S)
    served = sum(1 for s in statuses if s != 429)
    assert served / (QUOTA * windows) >= 0.8


def _engine(a: BigCommerceStore, b: BigCommerceStore, vt: VirtualTime) -> CatalogSync:
    connection = Connection(
        name=CONNECTION,
        source=endpoint(a, "token-a"),
        destination=endpoint(b, "token-b"),
        signing=Signing(secrets=[SecretStr("whsec_dGVzdA==")]),
    )
    destination = BigCommerceClient.for_endpoint(endpoint(b, "token-b"))
    destination.http.clock, destination.http.sleep = vt.now, vt.sleep
    source = BigCommerceClient.for_endpoint(endpoint(a, "token-a"))
    return CatalogSync(connection, source, destination, StateStore(TABLE, make_state_table()), owner="w1")
