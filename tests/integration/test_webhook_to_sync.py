"""Issue 3 acceptance: a signed webhook travels receiver -> EventsTable -> SyncQueue -> consumer -> store B.

Everything real but the cloud: handlers loaded from template.yaml's CodeUri, resources created by
moto from the template, HTTP to BigCommerce store simulators that follow the official spec.
"""

from __future__ import annotations

import json
import time

import requests

from catalog_sync.signatures import sign_standard_webhooks
from catalog_sync_local.demo.sample_events import bigcommerce_notification, local_signing_secret
from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION


def _post_webhook(box: Sandbox, body: bytes, *, msg_id: str, secret: str | None = None) -> requests.Response:
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        **sign_standard_webhooks(secret or local_signing_secret(CONNECTION), msg_id, ts, body),
    }
    return requests.post(box.webhook_url(CONNECTION), data=body, headers=headers, timeout=10)


def _product_updated(product_id: int) -> bytes:
    return json.dumps(
        bigcommerce_notification("store/product/updated", product_id, created_at=int(time.time()))
    ).encode()


def _writes_to_products(box: Sandbox) -> list[tuple[str, str, int]]:
    store_b = box.destination_store(CONNECTION)
    return [(m, p, s) for m, p, s in store_b.request_log if m in ("POST", "PUT") and "/catalog/products" in p]


def test_signed_product_update_reaches_store_b_matched_by_sku(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    product = store_a.create_product(
        {"name": "Coffee Mug", "type": "physical", "sku": "MUG-001", "price": 12.5, "weight": 1}
    )

    resp = _post_webhook(sandbox, _product_updated(product["id"]), msg_id="msg_1")

    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "accepted"
    events = sandbox.events()
    assert [(e["sk"], e["status"]) for e in events] == [("msg_1", "received")]
    assert sandbox.queue_depth("SyncQueue") == 1

    report = sandbox.settle()

    assert (report.succeeded, report.failed) == (1, 0)
    [copied] = [p for p in sandbox.destination_store(CONNECTION).products() if p["sku"] == "MUG-001"]
    assert (copied["name"], copied["price"]) == ("Coffee Mug", 12.5)
    assert [e["status"] for e in sandbox.events()] == ["processed"]


def test_an_existing_product_in_b_is_matched_by_sku_not_duplicated(sandbox: Sandbox) -> None:
    store_a, store_b = sandbox.source_store(CONNECTION), sandbox.destination_store(CONNECTION)
    store_b.create_product({"name": "Old name", "type": "physical", "sku": "TEE-1", "price": 5, "weight": 1})
    product = store_a.create_product(
        {"name": "New name", "type": "physical", "sku": "TEE-1", "price": 9, "weight": 1}
    )

    assert _post_webhook(sandbox, _product_updated(product["id"]), msg_id="msg_tee").status_code == 200
    sandbox.settle()

    matches = [p for p in store_b.products() if p["sku"] == "TEE-1"]
    assert [(p["name"], p["price"]) for p in matches] == [("New name", 9)]


def test_the_same_delivery_twice_is_stored_once_and_written_once(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    product = store_a.create_product(
        {"name": "Lamp", "type": "physical", "sku": "LAMP-1", "price": 30, "weight": 2}
    )
    body = _product_updated(product["id"])

    first = _post_webhook(sandbox, body, msg_id="msg_dup")
    second = _post_webhook(sandbox, body, msg_id="msg_dup")

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["status"], second.json()["status"]) == ("accepted", "duplicate")
    assert len(sandbox.events()) == 1
    # Queued again, as nothing had consumed the event yet (its first send might have been lost)...
    assert sandbox.queue_depth("SyncQueue") == 2
    sandbox.settle()
    # ...and still one sync: the create (hidden) and the write that shows it, nothing more
    dest_id = sandbox.destination_store(CONNECTION).products()[0]["id"]
    assert [(m, p) for m, p, _ in _writes_to_products(sandbox)] == [
        ("POST", "/catalog/products"),
        ("PUT", f"/catalog/products/{dest_id}"),
    ]


def test_a_tampered_body_is_refused_with_401_and_nothing_is_stored(sandbox: Sandbox) -> None:
    body = _product_updated(7)
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        **sign_standard_webhooks(local_signing_secret(CONNECTION), "msg_t", ts, body),
    }
    tampered = body.replace(b'"id": 7', b'"id": 8')

    resp = requests.post(sandbox.webhook_url(CONNECTION), data=tampered, headers=headers, timeout=10)

    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_signature"
    assert sandbox.events() == []
    assert sandbox.queue_depth("SyncQueue") == 0


def test_store_a_webhooks_flow_through_to_store_b(hooked_sandbox: Sandbox) -> None:
    store_a = hooked_sandbox.source_store(CONNECTION)
    store_a.create_product({"name": "Kettle", "type": "physical", "sku": "KET-1", "price": 40, "weight": 3})
    product = store_a.create_product(
        {"name": "Pot", "type": "physical", "sku": "POT-1", "price": 20, "weight": 3}
    )
    store_a.update_product(product["id"], {"price": 22})

    hooked_sandbox.settle()

    synced = {p["sku"]: p["price"] for p in hooked_sandbox.destination_store(CONNECTION).products()}
    assert synced == {"KET-1": 40, "POT-1": 22}
    assert {e["status"] for e in hooked_sandbox.events()} == {"processed"}
