"""Sync engine figures, in one run against the BigCommerce store simulators (state on embedded moto).

- `rate_limit_utilization`: 2,000 products copied A -> B in SQS-sized batches, store B under the real
  quota (150 requests / 30 s) on a shared VirtualTime (work takes real time, waiting for a window is
  skipped): B's served requests ÷ the quota of every window the copy touched (goal ≥ 0.8).
  `rate_limit_failed_requests`: products that failed (e.g. for good on a 429; must be 0);
  `rate_limit_429s`: 429 answers seen (retried) on the way. Then every product is repriced and synced
  again: `large_resync_dest_requests_per_product` shows the batch product update (≤ 10 per request).
- `webhook_dest_calls_ratio`: a bursty stream (per product: a price edit notified three times by
  redeliveries, an image added, which fires store/product/updated twice, a variant edit as store/sku/updated,
  all in SQS batches of 10). Destination requests per source change of a naive fetch-and-upsert-per-event
  baseline (fetch the product, find it by SKU, PUT its fields, PUT every variant, upsert every image) ÷
  ours (coalesced per batch, hash-guarded, per-part writes, product fields in batch requests).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import create_state_table

SECTION = "sync engine"
QUOTA = 150
WINDOW_MS = 30_000  # BigCommerce's Standard plan: 150 requests per 30 s
LARGE_SYNC_PRODUCTS = 2_000
BURST_PRODUCTS = 30
SQS_BATCH = 10


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    figures.update(_large_sync())
    figures.update(_webhook_ratio())
    return figures


# --- rig -------------------------------------------------------------------------------------------


@contextmanager
def _rig(
    quota_b: int, window_ms_b: int, clock_b: Callable[[], float] = time.time
) -> Iterator[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

    with (
        mock_aws(),
        BigCommerceStore("benchA", "token-a", quota=1_000_000) as a,
        BigCommerceStore("benchB", "token-b", quota=quota_b, window_ms=window_ms_b, clock=clock_b) as b,
        BigCommerceStore("benchN", "token-n", quota=1_000_000) as naive_b,
    ):
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(ddb, "state")
        yield {"a": a, "b": b, "naive_b": naive_b, "ddb": ddb}


def _engine(rig: dict[str, Any]) -> Any:
    from pydantic import SecretStr

    from catalog_sync.connections import BigCommerceEndpoint, Connection, Signing
    from catalog_sync.connectors.bigcommerce import BigCommerceClient
    from catalog_sync.engine import CatalogSync
    from catalog_sync.store.changelog import ChangeLog
    from catalog_sync.store.state import StateStore

    def endpoint(store: Any, token: str) -> BigCommerceEndpoint:
        return BigCommerceEndpoint(
            store_hash=store.store_hash, access_token=SecretStr(token), api_url=store.api_url
        )

    conn = Connection(
        name="bench",
        source=endpoint(rig["a"], "token-a"),
        destination=endpoint(rig["b"], "token-b"),
        signing=Signing(secrets=[SecretStr("whsec_dGVzdA==")]),
    )
    source = BigCommerceClient.for_endpoint(endpoint(rig["a"], "token-a"))
    dest = BigCommerceClient.for_endpoint(endpoint(rig["b"], "token-b"))
    state = StateStore("state", rig["ddb"])
    return CatalogSync(conn, source, dest, state, owner="bench", changes=ChangeLog("state", rig["ddb"]))


def _option(label: str) -> dict[str, str]:
    return {"option_display_name": "Color", "label": label}


def _make_products(store: Any, count: int, prefix: str) -> list[dict[str, Any]]:
    products = []
    for n in range(count):
        variants = [
            {"sku": f"{prefix}{n}-{c}", "price": 10.0 + n % 7, "option_values": [_option(c)]}
            for c in ("Red", "Blue")
        ]
        products.append(
            store.create_product(
                {"name": f"{prefix} product {n}", "sku": f"{prefix}{n}", "price": 10 + n % 7, "weight": 1},
                variants=variants,
                images=[{"image_url": f"https://img.test/{prefix}{n}.jpg"}],
            )
        )
    return products


# --- a large sync under the real quota ------------------------------------------------------------


def _large_sync() -> dict[str, float]:
    """2,000 products copied A -> B, then all repriced and synced again, in SQS-sized batches through
    `sync_many` (what the consumer does), with store B under the real 150 / 30 s quota. B and the
    client share a VirtualTime: real work takes real time, waits for the window cost nothing."""
    from catalog_sync.sync_request import SyncRequest
    from catalog_sync_local.simulators.shared.virtual_time import VirtualTime

    vt = VirtualTime()
    with _rig(QUOTA, WINDOW_MS, clock_b=vt.now) as rig:
        products = _make_products(rig["a"], LARGE_SYNC_PRODUCTS, "U")
        engine = _engine(rig)
        engine.destination.http.clock, engine.destination.http.sleep = vt.now, vt.sleep
        requests = [
            SyncRequest(connection="bench", entity_type="product", entity_id=p["id"]) for p in products
        ]
        copy = _timed_batches(engine, requests, vt, rig["b"])
        for product in products:
            rig["a"].update_product(product["id"], price=99.0)
        update = _timed_batches(engine, requests, vt, rig["b"])
    # The store's quota resets per fixed window, and a fresh window allows its whole quota at once, so
    # the ceiling over a run is the quota of every window it touched (not quota / window x time).
    windows = max(1, math.ceil(copy["seconds"] / (WINDOW_MS / 1000.0)))
    return {
        "rate_limit_utilization": round(copy["served"] / (QUOTA * windows), 3),
        "rate_limit_failed_requests": copy["failed"] + update["failed"],
        "rate_limit_429s": copy["429s"] + update["429s"],
        "large_sync_products": float(LARGE_SYNC_PRODUCTS),
        "large_sync_quota_seconds": round(copy["seconds"], 1),
        "large_sync_dest_requests_per_product": round(copy["served"] / LARGE_SYNC_PRODUCTS, 3),
        "large_resync_dest_requests_per_product": round(update["served"] / LARGE_SYNC_PRODUCTS, 3),
        "large_resync_quota_seconds": round(update["seconds"], 1),
    }


def _timed_batches(engine: Any, requests: list[Any], vt: Any, store_b: Any) -> dict[str, float]:
    from catalog_sync.entity_sync import SyncOutcome

    mark = len(store_b.request_log)
    started = vt.now()
    failed = 0.0
    for start in range(0, len(requests), SQS_BATCH):
        results = engine.sync_many(requests[start : start + SQS_BATCH])
        failed += sum(1 for r in results.values() if not isinstance(r, SyncOutcome))
    statuses = [s for _, _, s in store_b.request_log[mark:]]
    return {
        "seconds": vt.now() - started,
        "served": float(sum(1 for s in statuses if s != 429)),
        "429s": float(statuses.count(429)),
        "failed": failed,
    }


# --- bursty webhook stream ---------------------------------------------------------------------------


def _webhook_ratio() -> dict[str, float]:
    from catalog_sync.sync_request import SyncRequest

    with _rig(1_000_000, 30_000) as rig:
        a, b, naive_b = rig["a"], rig["b"], rig["naive_b"]
        products = _make_products(a, BURST_PRODUCTS, "W")
        engine = _engine(rig)
        naive = _Naive(a, naive_b)
        for product in products:  # initial copies, not counted
            engine.sync(SyncRequest(connection="bench", entity_type="product", entity_id=product["id"]))
            naive.on_event(product["id"])
        ours_mark, naive_mark = len(b.request_log), len(naive_b.request_log)

        stream: list[int] = []
        changes = 0
        pending: list[int] = []

        def deliver(product_id: int, times: int) -> None:
            pending.extend([product_id] * times)
            while len(pending) >= SQS_BATCH:
                _process_batch(engine, naive, pending[:SQS_BATCH])
                stream.extend(pending[:SQS_BATCH])
                del pending[:SQS_BATCH]

        for product in products:
            pid = product["id"]
            a.update_product(pid, price=50.0 + pid % 5)
            changes += 1
            deliver(pid, 3)  # store/product/updated, redelivered twice
            a.add_image(pid, f"https://img.test/extra-{pid}.jpg")
            changes += 1
            deliver(pid, 2)  # creating an image fires store/product/updated twice
            variant = next(v for v in product["variants"] if v["option_values"])
            a.update_variant(pid, variant["id"], {"inventory_level": 3})
            changes += 1
            deliver(pid, 1)  # store/sku/updated
        if pending:
            _process_batch(engine, naive, pending)
        ours_calls = len(b.request_log) - ours_mark
        naive_calls = len(naive_b.request_log) - naive_mark
    ours_per_change = ours_calls / changes
    naive_per_change = naive_calls / changes
    return {
        "webhook_dest_calls_ratio": round(naive_per_change / ours_per_change, 3),
        "webhook_dest_calls_per_change_ours": round(ours_per_change, 3),
        "webhook_dest_calls_per_change_naive": round(naive_per_change, 3),
    }


def _process_batch(engine: Any, naive: _Naive, batch: list[int]) -> None:
    """Ours: what the consumer does (one sync per entity per batch, product fields in batch writes).
    Naive: every event on its own."""
    from catalog_sync.sync_request import SyncRequest

    engine.sync_many([SyncRequest(connection="bench", entity_type="product", entity_id=pid) for pid in batch])
    for product_id in batch:
        naive.on_event(product_id)


class _Naive:
    """Fetch-and-upsert per event (seed 003's approach): no coalescing, no hash, whole product each time."""

    def __init__(self, source: Any, dest: Any) -> None:
        import requests

        self.session = requests.Session()
        self.source_base, self.dest_base = source.v3_base, dest.v3_base
        self.source_headers = {"X-Auth-Token": "token-a"}
        self.dest_headers = {"X-Auth-Token": "token-n"}

    def _call(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        resp = self.session.request(method, url, headers=headers, timeout=10, **kwargs)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def on_event(self, product_id: int) -> None:
        src = self._call("GET", f"{self.source_base}/catalog/products/{product_id}", self.source_headers,
                         params={"include": "variants,images"})["data"]  # fmt: skip

        def dest(method: str, path: str, **kwargs: Any) -> Any:
            return self._call(method, f"{self.dest_base}{path}", self.dest_headers, **kwargs)

        found = dest("GET", "/catalog/products", params={"sku": src["sku"], "include": "variants,images"})[
            "data"
        ]
        fields = {
            k: src[k]
            for k in ("name", "price", "weight", "type", "description", "is_visible", "inventory_level")
        }
        keys = ("sku", "price", "inventory_level")
        variants = [{k: v[k] for k in keys} for v in src["variants"] if v["option_values"]]
        options = {v["sku"]: [_option(o["label"]) for o in v["option_values"]] for v in src["variants"]}
        images = [{"image_url": i["image_url"]} for i in src["images"]]
        if not found:
            created = [{**v, "option_values": options[v["sku"]]} for v in variants]
            dest(
                "POST",
                "/catalog/products",
                json={**fields, "sku": src["sku"], "variants": created, "images": images},
            )
            return
        target = found[0]
        dest("PUT", f"/catalog/products/{target['id']}", json=fields)
        by_sku = {v["sku"]: v["id"] for v in target["variants"]}
        for v in variants:
            if v["sku"] in by_sku:
                payload = {"price": v["price"], "inventory_level": v["inventory_level"]}
                dest("PUT", f"/catalog/products/{target['id']}/variants/{by_sku[v['sku']]}", json=payload)
        have = {i["image_url"]: i["id"] for i in target["images"]}
        for image in images:
            if image["image_url"] in have:
                dest("PUT", f"/catalog/products/{target['id']}/images/{have[image['image_url']]}", json=image)
            else:
                dest("POST", f"/catalog/products/{target['id']}/images", json=image)
