"""Pixlpay write-back (seed 000's Bidirectional Sync: name, description, price, is_active): the client sends
only those fields, validated, and names every refusal by type; the simulator applies the write, bumps the
product's updated_at, logs it and delivers a signed product.updated as it does for a dashboard edit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from catalog_sync.connections import PixlpayEndpoint, Signing
from catalog_sync.connectors.pixlpay import (
    PixlpayClient,
    PixlpayProductNotFound,
    PixlpayWriteInvalid,
    PixlpayWriteRefused,
)
from catalog_sync.errors import PermanentError
from catalog_sync.signatures import verify
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore, PixlpayWrite
from tests.webhook_listener import Listener, webhook_listener

SECRET = "pixlpay-write-back-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with webhook_listener() as running:
        yield running


@pytest.fixture
def store(clock: Clock, listener: Listener) -> Iterator[PixlpayStore]:
    with PixlpayStore("tok", quota=10_000, clock=clock, webhook_secret=SECRET) as running:
        running.create_webhook(f"{listener.url}/webhooks/pixlpay", ["product.updated"])
        yield running


@pytest.fixture
def client(store: PixlpayStore) -> PixlpayClient:
    endpoint = PixlpayEndpoint.model_validate(
        {"kind": "pixlpay", "api_url": store.api_url, "api_token": "tok", "max_requests_per_minute": 0}
    )
    return PixlpayClient.for_endpoint(endpoint)


def test_a_write_changes_the_four_fields_bumps_updated_at_and_answers_the_product(
    store: PixlpayStore, client: PixlpayClient, clock: Clock
) -> None:
    product = store.create_product("VIP Rank", "9.99", description="old")
    clock.now += 61
    fields = {"name": "VIP+ Rank", "description": "<p>new</p>", "price": 12.5, "is_active": False}
    answered = client.update_product(product["id"], fields)
    assert {k: answered[k] for k in fields} == {**fields, "price": "12.50"}
    assert answered["updated_at"] == "2026-11-30T00:54:21Z" != product["updated_at"]
    assert store.get_product(product["id"]) == answered
    assert store.write_log == [
        PixlpayWrite(product["id"], {**fields, "price": "12.50"}, answered["updated_at"])
    ]
    put = [r for r in store.request_log if r.method == "PUT"]
    assert [(r.path, r.status) for r in put] == [(f"/api/external/v1/products/{product['id']}", 200)]


def test_only_the_fields_given_are_sent_and_the_rest_stay(store: PixlpayStore, client: PixlpayClient) -> None:
    product = store.create_product("VIP Rank", "9.99", description="keep me", sku="VIP-1")
    answered = client.update_product(product["id"], {"price": Decimal("10.005")})
    assert store.write_log[-1].fields == {"price": "10.01"}  # two places, half up
    assert (answered["name"], answered["description"], answered["sku"]) == ("VIP Rank", "keep me", "VIP-1")


def test_a_write_back_is_delivered_as_a_signed_product_updated_like_a_dashboard_edit(
    store: PixlpayStore, client: PixlpayClient, listener: Listener
) -> None:
    product = store.create_product("VIP Rank", "9.99")
    client.update_product(product["id"], {"name": "VIP+ Rank"})
    store.update_product(product["id"], name="VIP++ Rank")  # the merchant's own edit, for comparison
    api_write, dashboard_edit = listener.wait_for(2, timeout=10)
    signing = Signing(scheme="pixlpay", secrets=[SecretStr(SECRET)])
    for delivery in (api_write, dashboard_edit):
        verify(signing, delivery.headers, delivery.body)  # raises unless the signature is valid
        payload = json.loads(delivery.body)
        assert (payload["event_type"], payload["data"]) == ("product.updated", {"product_id": product["id"]})
        assert delivery.path == "/webhooks/pixlpay"
    assert set(api_write.headers) == set(dashboard_edit.headers)
    assert json.loads(api_write.body).keys() == json.loads(dashboard_edit.body).keys()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({}, "at least one"),
        ({"sku": "X"}, "sku"),
        ({"name": "ok", "stock": 3}, "stock"),
        ({"name": "  "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"description": 5}, "description"),
        ({"price": -1}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": float("nan")}, "price"),
        ({"price": True}, "price"),
        ({"price": None}, "price"),
        ({"price": 1e9}, "price"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_a_bad_write_is_refused_before_anything_is_sent(
    store: PixlpayStore, client: PixlpayClient, fields: dict[str, Any], named: str
) -> None:
    product = store.create_product("VIP Rank", "9.99")
    with pytest.raises(PixlpayWriteInvalid, match=named) as raised:
        client.update_product(product["id"], fields)
    assert isinstance(raised.value, PermanentError)
    assert not [r for r in store.request_log if r.method == "PUT"] and store.write_log == []


@pytest.mark.parametrize("product_id", [0, -3, True, "12"])
def test_a_bad_product_id_is_refused_before_anything_is_sent(client: PixlpayClient, product_id: Any) -> None:
    with pytest.raises(PixlpayWriteInvalid, match="positive integer"):
        client.update_product(product_id, {"name": "x"})


def test_a_description_of_none_is_sent_as_empty(store: PixlpayStore, client: PixlpayClient) -> None:
    product = store.create_product("VIP Rank", "9.99", description="old")
    assert client.update_product(product["id"], {"description": None})["description"] == ""


def test_a_missing_product_is_not_found(store: PixlpayStore, client: PixlpayClient) -> None:
    with pytest.raises(PixlpayProductNotFound):
        client.update_product(404, {"name": "x"})
    assert store.write_log == []


@pytest.mark.parametrize("status", [403, 422])
def test_what_pixlpay_refuses_is_a_typed_refusal(
    store: PixlpayStore, client: PixlpayClient, status: int
) -> None:
    product = store.create_product("VIP Rank", "9.99")
    store.fail_next("PUT", r"^/products/\d+$", status=status)
    with pytest.raises(PixlpayWriteRefused) as raised:
        client.update_product(product["id"], {"name": "VIP+ Rank"})
    assert raised.value.status == status and store.write_log == []


def test_the_simulator_refuses_a_bad_body_as_pixlpay_documents_it(store: PixlpayStore) -> None:
    """docs.pixlpay.net/guides/error-handling: 422 VALIDATION_ERROR with the problems per field; the client
    keeps them on the refusal."""
    product = store.create_product("VIP Rank", "9.99")
    endpoint = PixlpayEndpoint.model_validate(
        {"kind": "pixlpay", "api_url": store.api_url, "api_token": "tok", "max_requests_per_minute": 0}
    )
    raw = PixlpayClient.for_endpoint(endpoint).http
    body = {"name": "", "price": "-2", "is_active": 1, "colour": "red"}
    with pytest.raises(Exception) as raised:
        raw.request("PUT", f"products/{product['id']}", json=body)
    answer = json.loads(raised.value.body)  # type: ignore[attr-defined]
    assert raised.value.status == 422  # type: ignore[attr-defined]
    assert (answer["success"], answer["error"]) == (False, "VALIDATION_ERROR")
    assert sorted(answer["errors"]) == ["colour", "is_active", "name", "price"]
    assert store.write_log == [] and store.get_product(product["id"]) == product
