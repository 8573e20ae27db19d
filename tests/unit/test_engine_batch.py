"""BigCommerce batch writes (PUT /catalog/products ≤ 10 with per-item 207 results, PUT /catalog/variants
≤ 50), the engine's batched product updates (sync_many) and the audit trail's layout (TTL, newest first,
per entity)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog_sync.entity_sync import SyncOutcome
from catalog_sync.errors import PermanentError, RetriableError
from catalog_sync.store.changelog import Change
from catalog_sync.sync_request import SyncRequest
from tests.unit.test_engine_rig import CONNECTION, Rig, comparable, rig


@pytest.fixture
def r() -> Iterator[Rig]:
    yield from rig()


def test_batch_product_update_chunks_by_10_and_reports_207_failures_per_item(r: Rig) -> None:
    ids = [
        r.b.create_product({"name": f"P{n}", "sku": f"P{n}", "price": 1, "weight": 1})["id"]
        for n in range(12)
    ]
    dest = r.engine().destination
    payloads = [{"id": pid, "price": 5.0} for pid in ids]
    payloads[3]["name"] = "P4"  # a duplicate name: refused, alone

    result = dest.update_products(payloads)

    assert sorted(result.updated) == sorted(set(ids) - {ids[3]})
    assert list(result.failed) == [ids[3]] and "409" in result.failed[ids[3]]
    assert [(m, p) for m, p, _ in r.b_writes() if p == "/catalog/products" and m == "PUT"] == [
        ("PUT", "/catalog/products")
    ] * 2
    assert {p["price"] for p in r.b.products() if p["id"] != ids[3]} == {5.0}


def test_batch_variant_update_chunks_by_50(r: Rig) -> None:
    product = r.b.create_product(
        {"name": "Many", "sku": "MANY", "price": 1, "weight": 1},
        variants=[
            {"sku": f"V{n}", "option_values": [{"option_display_name": "N", "label": str(n)}]}
            for n in range(60)
        ],
    )
    variants = [v for v in product["variants"] if v["option_values"]]
    dest = r.engine().destination

    updated = dest.update_variants([{"id": v["id"], "inventory_level": 9} for v in variants])

    assert len(updated) == 60
    assert [p for m, p, _ in r.b_writes() if m == "PUT"] == ["/catalog/variants"] * 2


def test_the_audit_trail_expires_and_is_queried_newest_first(r: Rig) -> None:
    for n, action in enumerate(["created", "updated", "deleted"]):
        r.clock.tick()
        r.changes.record(Change(CONNECTION, "product", 7, action, source_version=f"v{n}", fields=("price",)))
    r.changes.record(Change(CONNECTION, "product", 8, "created"))

    history = r.changes.history(CONNECTION, "product", 7)

    assert [h["action"] for h in history] == ["deleted", "updated", "created"]
    assert history[0]["expires_at"] == int(r.clock() + 30 * 86_400)
    assert history[0]["fields"] == ["price"]
    assert len(r.changes.history(CONNECTION, "product", 7, limit=1)) == 1


# --- sync_many: product fields of a batch in batch requests -------------------------------------------


def _synced_products(r: Rig, count: int) -> list[dict[str, Any]]:
    products = [
        r.a.create_product(
            {"name": f"Lamp {n}", "sku": f"LAMP-{n}", "price": 10, "weight": 1},
            variants=[{"sku": f"LAMP-{n}-W", "option_values": [{"option_display_name": "C", "label": "W"}]}],
        )
        for n in range(count)
    ]
    engine = r.engine()
    for product in products:
        assert engine.sync(_request(product["id"])).action == "created"
    r.clock.tick()
    return products


def _request(product_id: int) -> SyncRequest:
    return SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)


def _outcomes(results: dict[Any, SyncOutcome | Exception]) -> list[str]:
    return [r.action if isinstance(r, SyncOutcome) else type(r).__name__ for r in results.values()]


def test_twelve_changed_products_write_their_fields_in_two_batch_requests(r: Rig) -> None:
    products = _synced_products(r, 12)
    for product in products:
        r.a.update_product(product["id"], price=25.0)
    mark = len(r.b.request_log)

    results = r.engine().sync_many([_request(p["id"]) for p in products])

    assert _outcomes(results) == ["updated"] * 12
    assert [(m, p) for m, p, _ in r.b_writes(mark)] == [("PUT", "/catalog/products")] * 2
    assert {p["price"] for p in r.b.products()} == {25.0}
    [latest, *_] = r.changes.history(CONNECTION, "product", products[11]["id"])
    assert (latest["action"], latest["fields"]) == ("updated", ["fields"])


def test_one_product_refused_inside_the_batch_fails_alone_and_the_rest_land(r: Rig) -> None:
    products = _synced_products(r, 3)
    r.b.create_product({"name": "Taken", "sku": "OTHER", "price": 1, "weight": 1})
    r.a.update_product(products[0]["id"], price=30.0)
    r.a.update_product(products[1]["id"], name="Taken")  # B already has a product of that name: 409
    r.a.update_product(products[2]["id"], price=31.0)

    results = r.engine().sync_many([_request(p["id"]) for p in products])

    refused = results[(CONNECTION, "product", products[1]["id"])]
    assert isinstance(refused, PermanentError) and "409" in str(refused)
    assert _outcomes(results) == ["updated", "PermanentError", "updated"]
    assert r.b_product("LAMP-0")["price"] == 30.0 and r.b_product("LAMP-2")["price"] == 31.0
    assert r.b_product("LAMP-1")["name"] == "Lamp 1"
    state = r.state.get(CONNECTION, "product", products[1]["id"])
    assert state is not None and state.last_outcome == "partial"
    r.state.acquire(CONNECTION, "product", products[1]["id"], owner="worker-2", lease_s=5)  # lease released


def test_a_failed_batch_request_is_retried_by_writing_only_the_fields(r: Rig) -> None:
    products = _synced_products(r, 2)
    for product in products:
        r.a.update_product(product["id"], price=40.0)
        variant = next(v for v in r.a.get_product(product["id"])["variants"] if v["option_values"])  # type: ignore[index]
        r.a.update_variant(product["id"], variant["id"], {"price": 41.0})
    engine = r.engine()
    r.b.fail_next("PUT", r"^/catalog/products$", status=503, times=engine.destination.http.max_attempts)

    first = engine.sync_many([_request(p["id"]) for p in products])
    assert all(isinstance(result, RetriableError) for result in first.values())
    mark = len(r.b.request_log)
    second = engine.sync_many([_request(p["id"]) for p in products])

    assert _outcomes(second) == ["updated"] * 2
    assert [(m, p) for m, p, _ in r.b_writes(mark)] == [("PUT", "/catalog/products")]
    for product in products:
        assert comparable(r.b_product(product["sku"])) == comparable(r.a.get_product(product["id"]) or {})


def test_a_single_changed_product_keeps_the_plain_update(r: Rig) -> None:
    [product] = _synced_products(r, 1)
    r.a.update_product(product["id"], price=12.5)
    mark = len(r.b.request_log)

    results = r.engine().sync_many([_request(product["id"])] * 3)

    assert _outcomes(results) == ["updated"]
    dest_id = r.b_product("LAMP-0")["id"]
    assert [(m, p) for m, p, _ in r.b_writes(mark)] == [("PUT", f"/catalog/products/{dest_id}")]
