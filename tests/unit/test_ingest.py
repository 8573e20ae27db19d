"""Payload models per source kind and the envelope rules of catalog_sync.ingest (no AWS needed)."""

from __future__ import annotations

import base64
import json

import pytest

from catalog_sync import ingest
from catalog_sync.errors import PayloadInvalid, PayloadTooLarge
from catalog_sync.payloads import BigCommerceWebhook, PixlpayWebhook


def _bc(scope: str, data: dict[str, object]) -> BigCommerceWebhook:
    return BigCommerceWebhook.model_validate(
        {"scope": scope, "store_id": "1025646", "data": data, "hash": "h1", "created_at": 1561482670}
    )


@pytest.mark.parametrize(
    ("scope", "data", "target"),
    [
        ("store/product/inventory/updated", {"type": "product", "id": 167}, ("product", 167, "upsert")),
        (
            "store/sku/inventory/order/updated",
            {"type": "sku", "id": 461, "inventory": {"product_id": 167, "method": "relative", "value": -2}},
            ("product", 167, "upsert"),
        ),
        (
            "store/sku/deleted",
            {"type": "sku", "id": 461, "sku": {"product_id": 206}},
            ("product", 206, "upsert"),
        ),
        ("store/brand/deleted", {"type": "brand", "id": 3}, ("brand", 3, "delete")),
        ("store/cart/lineItem/added", {"type": "cart", "id": "a-uuid"}, None),  # acknowledged, not synced
    ],
)
def test_bigcommerce_scopes_name_the_entity_to_resync(
    scope: str, data: dict[str, object], target: tuple[str, int, str] | None
) -> None:
    assert _bc(scope, data).target() == target


def test_a_sku_inventory_scope_without_its_inventory_ref_is_a_schema_error() -> None:
    with pytest.raises(ValueError, match="inventory"):
        _bc("store/sku/inventory/updated", {"type": "sku", "id": 461})


@pytest.mark.parametrize(
    "raw",
    [
        {
            "id": "wh_del_1",
            "event_type": "product.updated",
            "created_at": "2025-01-20T14:30:00Z",
            "data": {"product_id": 5},
        },
        {"event": "product.updated", "timestamp": "2025-01-20T14:30:00Z", "data": {"id": 5}},
    ],
    ids=["event_type-created_at", "event-timestamp"],
)
def test_both_documented_pixlpay_shapes_parse_to_the_same_target(raw: dict[str, object]) -> None:
    payload = PixlpayWebhook.model_validate(raw)
    assert payload.target() == ("product", 5, "upsert")
    assert payload.created_at_s == 1737383400.0


def test_decode_body_honours_base64_and_bounds_size_before_decoding() -> None:
    assert ingest.decode_body(base64.b64encode(b'{"a": 1}').decode(), is_base64=True) == b'{"a": 1}'
    assert ingest.decode_body('{"a": 1}', is_base64=False) == b'{"a": 1}'
    with pytest.raises(PayloadInvalid, match="base64"):
        ingest.decode_body("%%%", is_base64=True)
    with pytest.raises(PayloadTooLarge):
        ingest.decode_body("A" * (ingest.MAX_BODY_BYTES * 2), is_base64=True)


def test_parse_names_the_problem_without_echoing_the_input() -> None:
    body = json.dumps(
        {
            "scope": "store/product/updated",
            "store_id": "1",
            "data": {"type": "product", "id": -7},
            "hash": "SECRET-LOOKING-VALUE",
            "created_at": 1,
        }
    ).encode()
    with pytest.raises(PayloadInvalid) as caught:
        ingest.parse("bigcommerce", body)
    assert "data.id" in str(caught.value)
    assert "-7" not in str(caught.value) and "SECRET-LOOKING-VALUE" not in str(caught.value)
