"""Contract tests: what our BigCommerce client sends, and what the simulated stores answer, is what
BigCommerce's official operation schemas allow.

The simulated stores validate every exchange themselves (catalog_sync_local.simulators.bigcommerce.contract)
against schemas derived from the official specs (bigcommerce_contract.json); here the demo flow, the
consumer's engine, the pull and full-sync jobs and hook registration run against them on the local stack, and
the module checks that nothing broke the contract and that every operation our client uses was exercised.
Plain pytest, no extra service: the stack runs on embedded moto, the stores on 127.0.0.1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from catalog_sync.connections import BigCommerceEndpoint
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.hooks import reconcile_hooks
from catalog_sync_local.demo.compare import catalog_differences
from catalog_sync_local.demo.scenario import CONNECTION, DELETED_CATEGORIES, DELETED_SKUS, QUIET
from catalog_sync_local.demo.scenario import _steps as demo_steps
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.simulators.bigcommerce.contract import coverage, take_unexpected_violations

# Every operation our client calls on BigCommerce (connectors/bigcommerce.py), by the spec's name.
CLIENT_OPERATIONS = {
    "GET /catalog/products",
    "POST /catalog/products",
    "PUT /catalog/products",
    "GET /catalog/products/{product_id}",
    "GET /catalog/products/{product_id}/variants",
    "POST /catalog/products/{product_id}/variants",
    "PUT /catalog/products/{product_id}",
    "PUT /catalog/products/{product_id}/variants/{variant_id}",
    "DELETE /catalog/products/{product_id}/variants/{variant_id}",
    "GET /catalog/products/{product_id}/options",
    "POST /catalog/products/{product_id}/options",
    "POST /catalog/products/{product_id}/options/{option_id}/values",
    "PUT /catalog/variants",
    "GET /catalog/products/{product_id}/images",
    "POST /catalog/products/{product_id}/images",
    "PUT /catalog/products/{product_id}/images/{image_id}",
    "DELETE /catalog/products/{product_id}/images/{image_id}",
    "GET /catalog/categories",
    "GET /catalog/categories/{category_id}",
    "POST /catalog/categories",
    "PUT /catalog/categories/{category_id}",
    "GET /catalog/brands",
    "GET /catalog/brands/{brand_id}",
    "POST /catalog/brands",
    "PUT /catalog/brands/{brand_id}",
    "GET /channels/{channel_id}/listings",
    "GET /hooks",
    "POST /hooks",
    "PUT /hooks/{id}",
    "DELETE /hooks/{id}",
}

_start = Counter(coverage())


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(register_webhooks=True, env_overrides=QUIET) as sandbox:
        yield sandbox


def covered_here() -> set[str]:
    """Operations checked by the stores since this module started (answered 2xx)."""
    now = Counter(coverage())
    return {name for (name, status), count in now.items() if count > _start[(name, status)] and status < 300}


def test_the_demo_flow_keeps_to_the_contract(box: Sandbox) -> None:
    with box.runtime.pollers():
        for step in demo_steps(box):
            step.action()
            assert box.source_store(CONNECTION).wait_for_deliveries(timeout=10)
            box.settle(max_rounds=10, max_seconds=30)
    box.settle(max_rounds=5, max_seconds=10)
    assert take_unexpected_violations() == []
    assert (
        catalog_differences(
            box.source_store(CONNECTION),
            box.destination_store(CONNECTION),
            deleted_skus=DELETED_SKUS,
            check_categories=True,
            deleted_categories=DELETED_CATEGORIES,
        )
        == []
    )


def test_the_pull_and_full_sync_jobs_keep_to_the_contract(box: Sandbox) -> None:
    """Edits the demo does not make, synced by the hourly pull and the full sync: two products at once
    (a batch), a new option and option value, variants added, repriced together and deleted, images
    added, changed and removed, a brand and a category renamed, and availability from a channel listing.
    (The demo renames a category too, but whether that is a PUT or already part of the category's first
    create depends on how its batches fall: this rename, made after the demo settled, is always a PUT.)"""
    a = box.source_store(CONNECTION)
    box.update_connection(CONNECTION, channel_on_source=1)
    by_sku = {p["sku"]: p for p in a.products()}
    mug, plate = by_sku["MUG-1"], by_sku["PLATE-1"]
    variants = {v["sku"]: v for v in mug["variants"]}
    a.set_listing(1, mug["id"], "active")
    a.set_listing(1, plate["id"], "disabled")
    a.update_product(mug["id"], {"price": 15.25})
    a.update_product(plate["id"], {"price": 9.0})
    a.add_variant(mug["id"], {"sku": "MUG-1-GRN", "price": 12.0, "option_values": [_color("Green")]})
    a.update_variant(mug["id"], variants["MUG-1-BLU"]["id"], {"price": 11.0})
    a.update_variant(mug["id"], variants["MUG-1-RED"]["id"], {"price": 11.5})
    size = {"option_display_name": "Size", "label": "Large"}
    a.add_variant(plate["id"], {"sku": "PLATE-1-L", "price": 9.5, "option_values": [size]})
    front, side = sorted(mug["images"], key=lambda i: i["sort_order"])
    a.catalog.update_image(mug["id"], side["id"], {"description": "from the side"})
    a.catalog.delete_image(mug["id"], front["id"])
    a.add_image(plate["id"], "https://cdn.example.com/plate.jpg")
    a.update_brand(mug["brand_id"], {"name": "Acme Home"})
    kitchen = next(c for c in a.categories() if c["name"] == "Kitchen")
    a.update_category(kitchen["id"], {"name": "Kitchen & Dining"})
    cup = a.create_product({"name": "Cup", "type": "physical", "sku": "CUP-2", "price": 4.0, "weight": 1})

    pulled = box.runtime.invoke("PullSyncFunction", {"connection": CONNECTION})
    box.settle(max_rounds=10, max_seconds=30)
    # Deleted after the pull synced it: its soft delete is the single-product PUT, always (whether the
    # demo's own delete reaches B that way depends on how its batches fall: once in CI it did not).
    a.delete_product(cup["id"])
    a.delete_variant(mug["id"], variants["MUG-1-RED"]["id"])
    a.update_variant(mug["id"], variants["MUG-1-BLU"]["id"], {"price": 10.0})  # one variant alone
    box.runtime.invoke("FullSyncFunction", {"connection": CONNECTION})
    box.runtime.drain("FullSyncFunction", max_batches=50, max_seconds=60)
    box.settle(max_rounds=10, max_seconds=30)

    assert pulled and take_unexpected_violations() == []
    b = {p["sku"]: p for p in box.destination_store(CONNECTION).products()}
    assert (b["MUG-1"]["price"], b["PLATE-1"]["price"]) == (15.25, 9.0)
    assert (b["MUG-1"]["availability"], b["PLATE-1"]["availability"]) == ("available", "disabled")
    mug_variants = {v["sku"]: v["price"] for v in b["MUG-1"]["variants"]}
    assert (mug_variants.keys() - {"MUG-1"}, mug_variants["MUG-1-BLU"]) == ({"MUG-1-BLU", "MUG-1-GRN"}, 10.0)
    assert [i["description"] for i in b["MUG-1"]["images"]] == ["from the side"]
    assert [i["image_url"] for i in b["PLATE-1"]["images"]] == ["https://cdn.example.com/plate.jpg"]
    assert "PLATE-1-L" in {v["sku"] for v in b["PLATE-1"]["variants"]}
    assert (b["CUP-2"]["is_visible"], b["CUP-2"]["availability"]) == (False, "disabled")
    assert "Kitchen & Dining" in {c["name"] for c in box.destination_store(CONNECTION).categories()}


def _color(label: str) -> dict[str, str]:
    return {"option_display_name": "Color", "label": label}


def test_hook_registration_keeps_to_the_contract(box: Sandbox) -> None:
    a = box.source_store(CONNECTION)
    client = BigCommerceClient.for_endpoint(
        BigCommerceEndpoint(
            store_hash=a.store_hash,
            access_token=SecretStr(box.connection(CONNECTION)["source"]["access_token"]),
            api_url=a.api_url,
        )
    )
    destination = box.webhook_url(CONNECTION)
    scopes = sorted({h["scope"] for h in a.webhooks()})
    stray = client.create_hook(
        {"scope": "store/order/*", "destination": destination, "is_active": True, "headers": {}}
    )
    changed = reconcile_hooks(client, scopes, destination, connection=CONNECTION, headers={"X-Check": "1"})
    restored = reconcile_hooks(client, scopes, destination, connection=CONNECTION)

    assert take_unexpected_violations() == []
    assert (sorted(changed.update), changed.delete) == (sorted(h["id"] for h in a.webhooks()), [stray["id"]])
    assert restored.changes == 0  # no headers wanted: the hooks are kept as they are
    assert {h["scope"] for h in a.webhooks()} == set(scopes)


def test_every_operation_our_client_uses_was_exercised_within_the_contract() -> None:
    """Runs after the flows above (file order): together they cover the client's whole vocabulary."""
    assert take_unexpected_violations() == []
    assert CLIENT_OPERATIONS - covered_here() == set()
