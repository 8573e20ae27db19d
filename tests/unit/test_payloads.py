"""BigCommerce webhook notifications name an entity; every sample from the official docs maps to one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from catalog_sync.payloads import BigCommerceWebhook
from tests.conftest import BC_WEBHOOK_SAMPLES, load_json

EXPECTED = {
    "store_product_created.json": ("product", 205, "upsert"),
    "store_product_updated.json": ("product", 205, "upsert"),
    "store_product_deleted.json": ("product", 205, "delete"),
    "store_sku_created.json": ("product", 206, "upsert"),
    "store_sku_updated.json": ("product", 206, "upsert"),
    # A deleted variant changes its product: resync the product, never delete it.
    "store_sku_deleted.json": ("product", 206, "upsert"),
    "store_category_created.json": ("category", 42, "upsert"),
    "store_category_updated.json": ("category", 42, "upsert"),
    "store_category_deleted.json": ("category", 42, "delete"),
}


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_official_samples_map_to_the_entity_they_name(sample: str) -> None:
    payload = BigCommerceWebhook.model_validate(load_json(BC_WEBHOOK_SAMPLES / sample))
    assert payload.target() == EXPECTED[sample]
    request = payload.to_request("conn", "delivery-1")
    assert request is not None
    assert (request.entity_type, request.entity_id, request.action) == EXPECTED[sample]
    assert request.delivery_id == "delivery-1"


def test_every_official_sample_is_covered() -> None:
    assert {p.name for p in BC_WEBHOOK_SAMPLES.glob("*.json")} == set(EXPECTED)


def test_unknown_scope_is_valid_but_not_synced() -> None:
    payload = BigCommerceWebhook.model_validate(
        {
            "scope": "store/order/created",
            "store_id": "1",
            "data": {"type": "order", "id": 5},
            "hash": "h",
            "created_at": 1,
        }
    )
    assert payload.target() is None
    assert payload.to_request("conn", "d") is None


@pytest.mark.parametrize(
    "mutation",
    [
        {"scope": "not a scope"},
        {"data": {"type": "product"}},
        {"data": {"type": "product", "id": -1}},
        {"hash": ""},
        {"created_at": "yesterday"},
    ],
)
def test_malformed_notifications_are_refused(mutation: dict) -> None:
    raw = {**load_json(BC_WEBHOOK_SAMPLES / "store_product_updated.json"), **mutation}
    with pytest.raises(ValidationError):
        BigCommerceWebhook.model_validate(raw)
