"""BigCommerce batch writes (PUT /catalog/products ≤ 10 with per-item 207 results, PUT /catalog/variants ≤ 50)
and the audit trail's layout (TTL, newest first, per entity)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog_sync.store.changelog import Change
from tests.unit.test_engine_rig import CONNECTION, Rig, rig


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
