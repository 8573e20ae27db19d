"""A test rig for the sync engine (no tests here): two simulated BigCommerce stores, a state table and an
audit trail on moto, and a CatalogSync between them. The stores' clock is injected, so every edit has
its own `date_modified` second and nothing waits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws
from pydantic import SecretStr

from bench import create_state_table
from catalog_sync.connections import BigCommerceEndpoint, Connection, Signing
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.engine import CatalogSync
from catalog_sync.store.changelog import ChangeLog
from catalog_sync.store.state import StateStore
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore, RequestRecord

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC).timestamp()
TABLE = "SyncStateTable"
CONNECTION = "a-to-b"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += seconds


def make_state_table() -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_state_table(client, TABLE)
    return client


def endpoint(store: BigCommerceStore, token: str) -> BigCommerceEndpoint:
    return BigCommerceEndpoint(
        store_hash=store.store_hash, access_token=SecretStr(token), api_url=store.api_url
    )


@dataclass
class Rig:
    a: BigCommerceStore
    b: BigCommerceStore
    clock: Clock
    state: StateStore
    changes: ChangeLog
    dynamodb: Any
    channel_on_source: int | None = None

    def connection(self) -> Connection:
        return Connection(
            name=CONNECTION,
            source=endpoint(self.a, "token-a"),
            destination=endpoint(self.b, "token-b"),
            signing=Signing(secrets=[SecretStr("whsec_dGVzdA==")]),
            channel_on_source=self.channel_on_source,
        )

    def engine(self, owner: str = "worker-1") -> CatalogSync:
        conn = self.connection()
        source = BigCommerceClient.for_endpoint(conn.source)  # type: ignore[arg-type]
        dest = BigCommerceClient.for_endpoint(conn.destination)  # type: ignore[arg-type]
        for client in (source, dest):
            client.http.backoff_base_s = 0.001
            client.http.sleep = lambda s: None
        return CatalogSync(conn, source, dest, self.state, owner=owner, changes=self.changes)

    def b_writes(self, since: int = 0) -> list[RequestRecord]:
        return [r for r in self.b.request_log[since:] if r.method in ("POST", "PUT", "DELETE")]

    def b_product(self, sku: str) -> dict[str, Any]:
        matches = [p for p in self.b.products() if p["sku"] == sku]
        assert len(matches) == 1, f"{len(matches)} products with SKU {sku} in B"
        return matches[0]


def rig() -> Iterator[Rig]:
    clock = Clock()
    with (
        mock_aws(),
        BigCommerceStore("storea", "token-a", clock=clock, quota=100_000) as a,
        BigCommerceStore("storeb", "token-b", clock=clock, quota=100_000) as b,
    ):
        client = make_state_table()
        yield Rig(
            a=a,
            b=b,
            clock=clock,
            state=StateStore(TABLE, client, clock=clock),
            changes=ChangeLog(TABLE, client, clock=clock),
            dynamodb=client,
        )


def comparable(product: dict[str, Any]) -> dict[str, Any]:
    """What must be equal between A and B (ids and derived fields differ between stores)."""
    keep = ("sku", "name", "price", "sale_price", "weight", "description", "is_visible", "inventory_level")
    return {
        **{k: product[k] for k in keep},
        "variants": sorted(
            (v["sku"], v["price"], v["inventory_level"], tuple(o["label"] for o in v["option_values"]))
            for v in product["variants"]
            if v["option_values"]
        ),
        "images": sorted((i["image_url"], i["sort_order"]) for i in product["images"]),
    }
