"""Our webhook forwarder (integrations/medusa-brand/src/subscribers) in a real Medusa 2.x: changes made
through the Admin API reach a listener on 127.0.0.1 as signed deliveries that the layer's own signature check
accepts with the run's secret (with-medusa.sh starts Medusa with CATALOG_SYNC_WEBHOOK_URL pointing at the
port this listener takes, and CATALOG_SYNC_WEBHOOK_SECRET). The same shape check runs against the
simulator in tests/unit/test_medusa_sim_forwarding.py."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import urlsplit

import pytest
import requests

from catalog_sync.payloads import MedusaProductEvent
from tests.contract.medusa.api_facts import Api
from tests.contract.medusa.forwarder_facts import check_forwarded
from tests.webhook_listener import Listener, Received, webhook_listener

WAIT_S = 20.0


@pytest.fixture(scope="module")
def forwarder() -> Iterator[tuple[Listener, str]]:
    url, secret = os.environ.get("CATALOG_SYNC_WEBHOOK_URL"), os.environ.get("CATALOG_SYNC_WEBHOOK_SECRET")
    if not url or not secret:
        pytest.fail(
            "CATALOG_SYNC_WEBHOOK_URL / _SECRET are not set: run the contract tests with `make contract`"
        )
    with webhook_listener(port=urlsplit(url).port or 0) as listener:
        yield listener, secret


Event = tuple[Received, MedusaProductEvent]


def events_until(listener: Listener, product_id: str, enough: Callable[[list[Event]], bool]) -> list[Event]:
    """The deliveries about `product_id` (other tests' products are forwarded here too), parsed and checked,
    once `enough` says so (AssertionError after WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        ours = [(r, _parse(r)) for r in list(listener.received) if product_id.encode() in r.body]
        if enough(ours):
            return ours
        if time.monotonic() > deadline:
            raise AssertionError(f"{[e.action for _, e in ours]} for {product_id} after {WAIT_S} s")
        time.sleep(0.1)


def _parse(received: Received) -> MedusaProductEvent:
    return check_forwarded(received, os.environ["CATALOG_SYNC_WEBHOOK_SECRET"])


def actions(events: list[Event], action: str, updated_at: str | None = None) -> list[Event]:
    moment = datetime.fromisoformat(updated_at) if updated_at else None
    return [(r, e) for r, e in events if e.action == action and (moment is None or e.updated_at == moment)]


def test_admin_changes_arrive_signed_with_the_products_external_id_and_updated_at(
    medusa_api: Api, forwarder: tuple[Listener, str]
) -> None:
    listener, _ = forwarder
    external = f"pixlpay_contract_{time.time_ns()}"
    product = medusa_api.new_product(external_id=external)
    pid = product["id"]
    # A create emits product.created and, for its variant, product-variant.created: product.updated here.
    events = events_until(
        listener, pid, lambda ev: bool(actions(ev, "created")) and bool(actions(ev, "updated"))
    )
    [(created, event)] = actions(events, "created")
    assert (event.product_id, event.external_id) == (pid, external)
    assert event.updated_at == datetime.fromisoformat(product["updated_at"])
    assert created.path == urlsplit(os.environ["CATALOG_SYNC_WEBHOOK_URL"]).path

    started = time.monotonic()
    renamed = medusa_api.ok(medusa_api.post(f"/admin/products/{pid}", {"title": "Forwarded"}))["product"]
    assert time.monotonic() - started < 5  # the Admin request does not wait on the delivery
    events = events_until(listener, pid, lambda ev: bool(actions(ev, "updated", renamed["updated_at"])))
    [(_, event)] = actions(events, "updated", renamed["updated_at"])
    assert event.external_id == external

    variant = product["variants"][0]["id"]
    price = {"prices": [{"amount": 11, "currency_code": "eur"}]}
    medusa_api.ok(medusa_api.post(f"/admin/products/{pid}/variants/{variant}", price))
    # a price edit arrives as its product's product.updated, with the product's updated_at (it did not move)
    events_until(listener, pid, lambda ev: len(actions(ev, "updated", renamed["updated_at"])) == 2)

    deleted = requests.delete(f"{medusa_api.url}/admin/products/{pid}", headers=medusa_api.auth(), timeout=30)
    assert deleted.status_code == 200
    events = events_until(listener, pid, lambda ev: bool(actions(ev, "deleted")))
    [(_, event)] = actions(events, "deleted")
    assert (event.external_id, event.updated_at) == (external, None)
    assert len({r.headers["webhook-id"] for r, _ in events}) == len(events) == 5


def test_a_refused_delivery_is_retried_with_the_same_id_and_body(
    medusa_api: Api, forwarder: tuple[Listener, str]
) -> None:
    listener, _ = forwarder
    listener.statuses.append(500)
    product = medusa_api.new_product()

    def retried(events: list[Event]) -> bool:
        ids = [r.headers["webhook-id"] for r, _ in events]
        return any(ids.count(i) > 1 for i in ids)

    events = events_until(listener, product["id"], retried)
    ids = [r.headers["webhook-id"] for r, _ in events]
    first, second = [r for r, _ in events if ids.count(r.headers["webhook-id"]) > 1][:2]
    assert first.body == second.body
    assert second.at - first.at >= 0.15  # CATALOG_SYNC_WEBHOOK_BACKOFF_MS=200 in with-medusa.sh
