"""Drift for Pixlpay -> Medusa: every Pixlpay product against the Medusa product named `pixlpay_<id>`,
compared on what the engine writes, against the Pixlpay and Medusa simulators; edits behind the
system's back are made through Medusa's Admin API, as another app or a person in the admin would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from pydantic import SecretStr

from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.medusa import MedusaClient
from catalog_sync.connectors.pixlpay import PixlpayClient
from catalog_sync.drift import DriftReport
from catalog_sync.drift_medusa import medusa_drift
from catalog_sync.store.changelog import ChangeLog
from catalog_sync.store.state import StateStore
from catalog_sync_local.simulators.medusa.store import MedusaStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore
from tests.unit.test_engine_rig import TABLE, Clock, make_state_table
from tests.unit.test_pixlpay_to_medusa import CONNECTION, PixRig, req

BRAND = "Blockcraft Store"


def rig(brand_module: Any = "catalog-sync") -> Iterator[PixRig]:
    clock = Clock()
    with (
        mock_aws(),
        PixlpayStore("pix-token", quota=100_000, clock=clock) as pixlpay,
        MedusaStore("sk_test", clock=clock, brand_module=brand_module) as medusa,
    ):
        client = make_state_table()
        yield PixRig(
            pixlpay,
            medusa,
            clock,
            StateStore(TABLE, client, clock=clock),
            ChangeLog(TABLE, client, clock=clock),
        )


@pytest.fixture
def r() -> Iterator[PixRig]:
    yield from rig()


def drift(r: PixRig, *, page_size: int = 2) -> DriftReport:
    engine = r.engine()
    assert isinstance(engine.source, PixlpayClient)
    return medusa_drift(CONNECTION, engine.source, admin(r), brand=BRAND, page_size=page_size)


def admin(r: PixRig) -> MedusaClient:
    """Medusa's Admin API, as drift (or a person's other app) reaches it."""
    endpoint = MedusaEndpoint(kind="medusa", api_url=r.medusa.api_url, api_key=SecretStr("sk_test"))
    return MedusaClient.for_endpoint(endpoint)


def synced(r: PixRig, count: int = 3, **more: Any) -> list[dict[str, Any]]:
    """`count` Pixlpay products (a category, two images, a SKU), synced to Medusa by the engine."""
    category = {"id": 7, "name": "Ranks", "slug": "ranks"}
    products = [
        r.pixlpay.create_product(
            f"Rank {n}",
            f"{5 + n}.50",
            description=f"Rank number {n}",
            sku=f"RANK-{n}",
            category=category,
            images=[f"https://cdn.pixlpay.test/rank-{n}.png", "https://cdn.pixlpay.test/shared.png"],
            **more,
        )
        for n in range(count)
    ]
    engine = r.engine()
    for product in products:
        assert engine.sync(req(product["id"])).action == "created"
    return products


def at_medusa(r: PixRig, product: dict[str, Any]) -> dict[str, Any]:
    found = r.medusa.product_by_external_id(f"pixlpay_{product['id']}")
    assert found is not None
    return found


def test_a_synced_catalog_has_no_drift_and_drift_writes_nothing(r: PixRig) -> None:
    synced(r, count=5)  # more than two pages of two on both sides
    inactive = r.pixlpay.create_product("Hidden", "1.00", is_active=False)
    assert r.engine().sync(req(inactive["id"])).action == "created"  # a draft at Medusa
    marks = len(r.medusa.request_log), len(r.pixlpay.request_log)

    report = drift(r)

    assert (report.clean, report.compared, report.in_sync, report.unmanaged) == (True, 6, 6, 0)
    assert r.medusa_writes(marks[0]) == []
    assert {m for m, _, _ in r.pixlpay.request_log[marks[1] :]} == {"GET"}


def test_a_title_edited_in_medusa_behind_our_back_is_listed_with_its_field(r: PixRig) -> None:
    products = synced(r)
    edited = at_medusa(r, products[1])
    admin(r).update_product(edited["id"], {"title": "Rank One (edited in Medusa)"})

    report = drift(r)

    [entry] = report.drifted
    assert (entry.kind, entry.external_id, entry.sku) == ("differs", f"pixlpay_{products[1]['id']}", "RANK-1")
    assert (entry.source_id, entry.dest_id) == (products[1]["id"], edited["id"])
    assert entry.fields == {"title": ("Rank 1", "Rank One (edited in Medusa)")}
    assert (report.compared, report.in_sync) == (3, 2)


def test_every_field_the_engine_writes_is_compared(r: PixRig) -> None:
    [product] = synced(r, count=1)
    held = at_medusa(r, product)
    medusa = admin(r)
    other_category = medusa.http.request("POST", "product-categories", json={"name": "Other"})
    medusa.update_product(
        held["id"],
        {
            "description": "",
            "images": [{"url": "https://cdn.pixlpay.test/shared.png"}],
            "thumbnail": "https://cdn.pixlpay.test/shared.png",
            "categories": [{"id": other_category["product_category"]["id"]}],
            "metadata": {"pixlpay_type": "physical"},
            "additional_data": {"brand_id": None},  # unlinked from the connection's brand
        },
    )
    medusa.update_variant(
        held["id"], held["variants"][0]["id"], {"prices": [{"amount": 1, "currency_code": "usd"}]}
    )

    [entry] = drift(r).drifted

    assert sorted(entry.fields) == [
        "brand", "category", "description", "images", "metadata.pixlpay_type", "price", "thumbnail",
    ]  # fmt: skip
    assert entry.fields["price"] == (
        [{"amount": 5.5, "currency_code": "usd"}],
        [{"amount": 1, "currency_code": "usd"}],
    )
    assert entry.fields["category"] == (
        [{"id": "pixlpay-category-7", "name": "Ranks"}],
        [{"id": other_category["product_category"]["handle"], "name": "Other"}],
    )
    assert entry.fields["brand"] == (
        {"brand_id": "pixlpay_brand_blockcraft_store", "name": BRAND},
        {"brand_id": None, "name": None},
    )


def test_a_category_or_brand_renamed_in_medusa_is_drift_of_its_products(r: PixRig) -> None:
    synced(r, count=2)
    medusa = admin(r)
    [category] = r.medusa.categories()
    medusa.http.request("POST", f"product-categories/{category['id']}", json={"name": "Renamed"})
    [brand] = r.medusa.brands()
    medusa.update_brand(brand["id"], {"name": "Someone Else"})

    report = drift(r)

    assert [sorted(d.fields) for d in report.drifted] == [["brand", "category"]] * 2


def test_a_product_missing_at_medusa_is_listed(r: PixRig) -> None:
    synced(r, count=2)
    never = r.pixlpay.create_product("Never Synced", "3.00", sku="NEVER-1")  # its webhook never came

    [entry] = drift(r).drifted

    assert (entry.kind, entry.external_id, entry.sku, entry.dest_id) == (
        "missing",
        f"pixlpay_{never['id']}",
        "NEVER-1",
        None,
    )


def test_a_tombstone_is_not_drift_but_a_tombstone_published_again_is(r: PixRig) -> None:
    products = synced(r, count=2)
    r.pixlpay.delete_product(products[0]["id"])
    assert r.engine().sync(req(products[0]["id"])).action == "deleted"

    assert drift(r).clean  # soft-deleted: draft, metadata.pixlpay_deleted

    tombstone = at_medusa(r, products[0])
    admin(r).update_product(tombstone["id"], {"status": "published"})  # shown again by hand
    [entry] = drift(r).drifted
    assert (entry.kind, entry.source_id, entry.dest_id) == ("extra", products[0]["id"], tombstone["id"])
    assert entry.fields == {"status": ("draft", "published")}


def test_a_product_deleted_at_the_source_but_live_in_medusa_is_extra(r: PixRig) -> None:
    products = synced(r, count=2)
    r.pixlpay.delete_product(products[1]["id"])  # and the delete never reached the engine

    [entry] = drift(r).drifted

    assert (entry.kind, entry.external_id, entry.sku) == ("extra", f"pixlpay_{products[1]['id']}", "RANK-1")
    assert entry.fields == {"status": ("draft", "published"), "metadata.pixlpay_deleted": (True, False)}


def test_a_product_tombstoned_in_medusa_while_live_at_the_source_differs(r: PixRig) -> None:
    [product] = synced(r, count=1)
    admin(r).soft_delete(at_medusa(r, product)["id"])

    [entry] = drift(r).drifted

    assert entry.kind == "differs"
    assert sorted(entry.fields) == ["metadata.pixlpay_deleted", "sku", "status"]


def test_medusa_products_of_others_are_counted_not_judged(r: PixRig) -> None:
    synced(r, count=1)
    medusa = admin(r)
    for n, external in enumerate((None, "shopify_12")):
        options = [{"title": "Default", "values": ["Default"]}]
        medusa.post_product({"title": f"Theirs {n}", "external_id": external, "options": options})

    report = drift(r)

    assert (report.clean, report.unmanaged, report.compared) == (True, 2, 1)


def test_an_unreadable_source_product_is_listed_not_a_crash(r: PixRig) -> None:
    synced(r, count=1)
    broken = r.pixlpay.create_product("Broken", "1.00", stock="plenty")  # the engine dead-letters it too

    [entry] = drift(r).drifted

    assert (entry.kind, entry.source_id, entry.external_id) == (
        "unreadable",
        broken["id"],
        f"pixlpay_{broken['id']}",
    )
    assert "unexpected shape" in entry.fields["error"][0]


def test_without_the_brand_module_products_are_compared_without_a_brand() -> None:
    for r in rig(brand_module=None):
        synced(r, count=2)

        report = drift(r)

        assert (report.clean, report.in_sync) == (True, 2)
        assert not any(p == "/admin/brands" for m, p, _ in r.medusa.request_log if m == "POST")


def test_the_report_carries_no_secret(r: PixRig) -> None:
    [product] = synced(r, count=1)
    admin(r).update_product(at_medusa(r, product)["id"], {"title": "Edited"})

    text = json.dumps(drift(r).as_dict(), default=str)

    assert '"title"' in text
    for secret in ("sk_test", "pix-token", "Basic ", "Bearer "):
        assert secret not in text
