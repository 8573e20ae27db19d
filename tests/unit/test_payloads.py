"""BigCommerce webhook notifications name an entity; every payload BigCommerce documents maps to one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from catalog_sync.payloads import BigCommerceWebhook
from catalog_sync_local.simulators.bigcommerce.spec import documented_scopes, validate_notification
from tests.bigcommerce_notifications import notification

PRODUCT, SKU_PRODUCT, SKU, CATEGORY = 311, 312, 77, 58
NOTIFICATIONS = {  # scope -> (notification, the entity it names)
    "store/product/created": (notification("store/product/created", PRODUCT), ("product", PRODUCT, "upsert")),
    "store/product/updated": (notification("store/product/updated", PRODUCT), ("product", PRODUCT, "upsert")),
    "store/product/deleted": (notification("store/product/deleted", PRODUCT), ("product", PRODUCT, "delete")),
    "store/sku/created": (
        notification("store/sku/created", SKU, product_id=SKU_PRODUCT),
        ("product", SKU_PRODUCT, "upsert"),
    ),
    "store/sku/updated": (
        notification("store/sku/updated", SKU, product_id=SKU_PRODUCT),
        ("product", SKU_PRODUCT, "upsert"),
    ),
    # A deleted variant changes its product: resync the product, never delete it.
    "store/sku/deleted": (
        notification("store/sku/deleted", SKU, product_id=SKU_PRODUCT),
        ("product", SKU_PRODUCT, "upsert"),
    ),
    "store/category/created": (
        notification("store/category/created", CATEGORY),
        ("category", CATEGORY, "upsert"),
    ),
    "store/category/updated": (
        notification("store/category/updated", CATEGORY),
        ("category", CATEGORY, "upsert"),
    ),
    "store/category/deleted": (
        notification("store/category/deleted", CATEGORY),
        ("category", CATEGORY, "delete"),
    ),
}


@pytest.mark.parametrize("scope", sorted(NOTIFICATIONS))
def test_documented_notifications_map_to_the_entity_they_name(scope: str) -> None:
    raw, expected = NOTIFICATIONS[scope]
    validate_notification(raw)  # the keys and types BigCommerce documents for the scope
    payload = BigCommerceWebhook.model_validate(raw)
    assert payload.target() == expected
    request = payload.to_request("conn", "delivery-1")
    assert request is not None
    assert (request.entity_type, request.entity_id, request.action) == expected
    assert request.delivery_id == "delivery-1"


def test_every_documented_scope_is_covered() -> None:
    assert set(documented_scopes()) == set(NOTIFICATIONS)


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
    raw = {**notification("store/product/updated", PRODUCT), **mutation}
    with pytest.raises(ValidationError):
        BigCommerceWebhook.model_validate(raw)
