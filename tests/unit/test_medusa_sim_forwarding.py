"""The Medusa simulator forwards product changes as our subscriber does on a real Medusa (the same shape
check, tests/contract/medusa/forwarder_facts.py, runs against both)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from catalog_sync_local.simulators.medusa.store import MedusaStore
from tests.contract.medusa.api_facts import Api
from tests.contract.medusa.forwarder_facts import check_forwarded
from tests.webhook_listener import Listener, webhook_listener

SECRET = "whsec_" + base64.b64encode(b"catalog-sync forwarder test key!").decode()
PATH = "/webhooks/pixlpay-and-medusa/destination"


@pytest.fixture
def listener() -> Iterator[Listener]:
    with webhook_listener() as running:
        yield running


@pytest.fixture
def medusa(listener: Listener) -> Iterator[MedusaStore]:
    with MedusaStore("sk_fwd", webhook_url=listener.url + PATH, webhook_secret=SECRET) as running:
        yield running


def test_create_update_variant_edit_and_delete_are_each_forwarded_signed(
    medusa: MedusaStore, listener: Listener
) -> None:
    api = Api(medusa.api_url, "sk_fwd", lambda: "")
    product = api.new_product(external_id="pixlpay_12")
    api.ok(api.post(f"/admin/products/{product['id']}", {"title": "Renamed"}))
    variant = product["variants"][0]["id"]
    price = {"prices": [{"amount": 8, "currency_code": "eur"}]}
    api.ok(api.post(f"/admin/products/{product['id']}/variants/{variant}", price))
    updated_at = api.ok(api.get(f"/admin/products/{product['id']}", fields="updated_at"))["product"][
        "updated_at"
    ]
    assert requests.delete(
        f"{medusa.api_url}/admin/products/{product['id']}", headers=api.auth(), timeout=10
    ).ok

    received = listener.wait_for(5, timeout=10)
    events = [check_forwarded(r, SECRET) for r in received]
    assert [(e.action, e.product_id, e.external_id) for e in events] == [
        ("created", product["id"], "pixlpay_12"),
        ("updated", product["id"], "pixlpay_12"),  # its variant's product-variant.created, as real Medusa
        ("updated", product["id"], "pixlpay_12"),
        ("updated", product["id"], "pixlpay_12"),  # a variant's price: product.updated of its product
        ("deleted", product["id"], "pixlpay_12"),
    ]
    assert events[3].updated_at == datetime.fromisoformat(updated_at)  # the product's, unmoved by the price
    assert events[4].updated_at is None
    assert {r.path for r in received} == {PATH}
    assert len({r.headers["webhook-id"] for r in received}) == 5


def test_a_refused_delivery_is_retried_with_the_same_webhook_id(
    medusa: MedusaStore, listener: Listener
) -> None:
    listener.statuses.extend([500, 503])
    Api(medusa.api_url, "sk_fwd", lambda: "").new_product(variants=[])
    first, second, third = listener.wait_for(3, timeout=10)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
    assert first.body == second.body == third.body
    assert medusa.wait_for_deliveries(5) and medusa.deliveries[0].delivered
    assert medusa.deliveries[0].attempts == 3


def test_a_receiver_that_never_answers_2xx_gets_a_bounded_number_of_attempts(listener: Listener) -> None:
    listener.statuses.extend([500] * 10)
    with MedusaStore(
        "sk_fwd", webhook_url=listener.url + PATH, webhook_secret=SECRET, delivery_attempts=3
    ) as medusa:
        Api(medusa.api_url, "sk_fwd", lambda: "").new_product(variants=[])
        assert medusa.wait_for_deliveries(5)
        [delivery] = medusa.deliveries
        assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, 500)
    assert len(listener.received) == 3


def test_without_a_webhook_url_nothing_is_forwarded(listener: Listener) -> None:
    with MedusaStore("sk_fwd") as medusa:
        Api(medusa.api_url, "sk_fwd", lambda: "").new_product()
        assert medusa.wait_for_deliveries(1) and medusa.deliveries == []
    assert listener.received == []


def test_a_body_is_the_compact_json_the_subscriber_sends(medusa: MedusaStore, listener: Listener) -> None:
    product = Api(medusa.api_url, "sk_fwd", lambda: "").new_product(variants=[])
    [received] = listener.wait_for(1, timeout=10)
    assert json.loads(received.body) == {
        "type": "product.created",
        "timestamp": json.loads(received.body)["timestamp"],
        "data": {"id": product["id"], "external_id": None, "updated_at": product["updated_at"]},
    }
