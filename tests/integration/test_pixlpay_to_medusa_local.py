"""Pixlpay -> Medusa on the local stack: a signed Pixlpay webhook travels the local HTTP API -> receiver ->
EventsTable -> SyncQueue -> consumer -> the Medusa simulator, as BigCommerce store A -> store B does.

Medusa holds each Pixlpay product by external_id `pixlpay_<id>` (seed 000), linked to the connection's
brand through the Brand Module (seed 002: `additional_data.brand_id` on the product write, brands known by
external_id) and to a product category made from the Pixlpay category. A product deleted in Pixlpay is
kept in Medusa as a draft marked deleted (a soft delete). Everything real but the cloud: handlers from
template.yaml, resources on moto, HTTP to the Pixlpay and Medusa simulators.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from pydantic import SecretStr

from catalog_sync.connections import Signing
from catalog_sync.signatures import sign_pixlpay, verify
from catalog_sync_local.demo.compare import medusa_differences
from catalog_sync_local.demo.sample_events import local_signing_secret, pixlpay_notification
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore

PIXLPAY = "pixlpay-to-medusa"
BRAND = "Blockcraft Store"  # the connection's brand in config/connections.local.yaml
RANKS = {"id": 1, "name": "Ranks", "slug": "ranks"}


def _post_event(
    box: Sandbox,
    event_type: str,
    product_id: int,
    *,
    delivery_id: str | None = None,
    secret: str | None = None,
) -> requests.Response:
    """POST a Pixlpay product event to the connection's webhook URL, signed as Pixlpay signs it."""
    notification = pixlpay_notification(
        event_type, product_id, created_at=time.time(), delivery_id=delivery_id
    )
    body = json.dumps(notification).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_pixlpay(secret or local_signing_secret(PIXLPAY), body),
    }
    return requests.post(box.webhook_url(PIXLPAY), data=body, headers=headers, timeout=10)


def _copy_of(box: Sandbox, product_id: int) -> dict[str, Any]:
    copies = [p for p in box.medusa_store(PIXLPAY).products() if p["external_id"] == f"pixlpay_{product_id}"]
    assert len(copies) == 1, copies
    return copies[0]


def _price(copy: dict[str, Any]) -> float:
    [variant] = copy["variants"]
    [price] = variant["prices"]
    return float(price["amount"])


def test_a_pixlpay_product_is_created_updated_and_soft_deleted_in_medusa(sandbox: Sandbox) -> None:
    pixlpay, medusa = sandbox.pixlpay_store(PIXLPAY), sandbox.medusa_store(PIXLPAY)
    product = pixlpay.create_product("VIP Rank", "9.99", description="Access to VIP features", category=RANKS)

    created = _post_event(sandbox, "product.created", product["id"], delivery_id="wh_del_create")

    assert created.status_code == 200, created.text
    assert created.json() == {"status": "accepted", "delivery_id": "wh_del_create"}
    assert [(e["pk"], e["sk"], e["status"]) for e in sandbox.events()] == [
        (PIXLPAY, "wh_del_create", "received")
    ]
    assert sandbox.queue_depth("SyncQueue") == 1
    assert sandbox.settle().failed == 0
    copy = _copy_of(sandbox, product["id"])
    assert (copy["title"], copy["description"], copy["status"], _price(copy)) == (
        "VIP Rank",
        "Access to VIP features",
        "published",
        9.99,
    )
    [brand] = medusa.brands()  # seed 002: one brand, known by its external_id, linked to the product
    assert (brand["name"], brand["external_id"]) == (BRAND, "pixlpay_brand_blockcraft_store")
    assert copy["brand"] is not None and copy["brand"]["id"] == brand["id"]
    [category] = medusa.categories()
    assert category["name"] == "Ranks"
    assert [c["id"] for c in copy["categories"]] == [category["id"]]

    pixlpay.update_product(product["id"], name="VIP+ Rank", price="12.50")
    assert _post_event(sandbox, "product.updated", product["id"]).status_code == 200
    sandbox.settle()

    copy = _copy_of(sandbox, product["id"])
    assert (copy["title"], _price(copy), copy["status"]) == ("VIP+ Rank", 12.5, "published")
    assert copy["brand"]["id"] == brand["id"] and [c["id"] for c in copy["categories"]] == [category["id"]]

    pixlpay.delete_product(product["id"])
    assert _post_event(sandbox, "product.deleted", product["id"]).status_code == 200
    sandbox.settle()

    copy = _copy_of(sandbox, product["id"])  # kept, hidden: a soft delete
    assert (copy["status"], copy["metadata"]["pixlpay_deleted"]) == ("draft", True)
    assert len(medusa.products()) == 1
    outcomes = {e["sk"]: (e["status"], e.get("outcome")) for e in sandbox.events()}
    assert outcomes["wh_del_create"] == ("processed", "created")
    assert sorted(outcomes.values()) == [
        ("processed", "created"),
        ("processed", "deleted"),
        ("processed", "updated"),
    ]


def test_a_redelivered_pixlpay_event_is_stored_once(sandbox: Sandbox) -> None:
    product = sandbox.pixlpay_store(PIXLPAY).create_product("Starter Kit", "4.99")

    first = _post_event(sandbox, "product.created", product["id"], delivery_id="wh_del_twice")
    second = _post_event(sandbox, "product.created", product["id"], delivery_id="wh_del_twice")

    assert (first.json()["status"], second.json()["status"]) == ("accepted", "duplicate")
    assert len(sandbox.events()) == 1
    # Queued again, as nothing had consumed the event yet (its first send might have been lost).
    assert sandbox.queue_depth("SyncQueue") == 2


def test_a_forged_pixlpay_webhook_is_refused_with_401_and_nothing_is_stored(sandbox: Sandbox) -> None:
    product = sandbox.pixlpay_store(PIXLPAY).create_product("VIP Rank", "9.99")

    forged = _post_event(sandbox, "product.created", product["id"], secret="not-the-connection-secret")
    unsigned = requests.post(
        sandbox.webhook_url(PIXLPAY),
        data=json.dumps(pixlpay_notification("product.created", product["id"], created_at=time.time())),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert forged.status_code == 401
    assert forged.json()["error"] == "invalid_signature"
    assert unsigned.status_code == 401
    assert unsigned.json()["error"] == "missing_signature_header"
    assert sandbox.events() == []
    assert sandbox.queue_depth("SyncQueue") == 0
    assert sandbox.settle().received == 0
    assert sandbox.medusa_store(PIXLPAY).products() == []


def test_a_webhook_signed_for_the_other_connection_is_refused(sandbox: Sandbox) -> None:
    """The BigCommerce connection's secret does not sign for the Pixlpay connection."""
    product = sandbox.pixlpay_store(PIXLPAY).create_product("VIP Rank", "9.99")

    resp = _post_event(sandbox, "product.created", product["id"], secret=local_signing_secret("store-a-to-b"))

    assert resp.status_code == 401
    assert sandbox.events() == []


def test_the_pixlpay_store_delivers_its_own_signed_webhooks_and_medusa_converges(
    hooked_sandbox: Sandbox,
) -> None:
    pixlpay = hooked_sandbox.pixlpay_store(PIXLPAY)
    [webhook] = pixlpay.webhooks()  # registered by the sandbox through Pixlpay's /webhooks API
    assert webhook["url"] == hooked_sandbox.webhook_url(PIXLPAY)
    assert sorted(webhook["events"]) == ["product.created", "product.deleted", "product.updated"]

    vip = pixlpay.create_product(
        "VIP Rank", "9.99", category=RANKS, images=["https://cdn.pixlpay.test/vip.png"]
    )
    kit = pixlpay.create_product("Starter Kit", "4.99")
    crate = pixlpay.create_product("Winter Crate", "2.50")
    hooked_sandbox.settle()
    pixlpay.update_product(vip["id"], name="VIP+ Rank", price="12.50")
    pixlpay.update_product(kit["id"], is_active=False)
    pixlpay.delete_product(crate["id"])
    hooked_sandbox.settle()

    assert [(d.scope, d.status) for d in pixlpay.deliveries] == [
        ("product.created", 200),
        ("product.created", 200),
        ("product.created", 200),
        ("product.updated", 200),
        ("product.updated", 200),
        ("product.deleted", 200),
    ]
    assert {e["status"] for e in hooked_sandbox.events() if e["pk"] == PIXLPAY} == {"processed"}
    medusa = hooked_sandbox.medusa_store(PIXLPAY)
    assert medusa_differences(pixlpay, medusa, brand=BRAND, deleted_ids=frozenset({crate["id"]})) == []
    assert _copy_of(hooked_sandbox, kit["id"])["status"] == "draft"  # inactive in Pixlpay


def test_the_medusa_check_sees_what_differs(sandbox: Sandbox) -> None:
    """The demo's final check is a real check: a product that never synced, a stale title, a live delete."""
    pixlpay, medusa = sandbox.pixlpay_store(PIXLPAY), sandbox.medusa_store(PIXLPAY)
    synced = pixlpay.create_product("VIP Rank", "9.99")
    gone = pixlpay.create_product("Winter Crate", "2.50")
    for product in (synced, gone):
        _post_event(sandbox, "product.created", product["id"])
    sandbox.settle()
    pixlpay.update_product(synced["id"], name="VIP+ Rank")  # no webhook: Medusa keeps the old title
    pixlpay.delete_product(gone["id"])
    never = pixlpay.create_product("Starter Kit", "4.99")

    problems = medusa_differences(pixlpay, medusa, brand=BRAND, deleted_ids=frozenset({gone["id"]}))

    assert problems == [
        f"pixlpay_{synced['id']}.title: Pixlpay 'VIP+ Rank' != Medusa 'VIP Rank'",
        f"pixlpay_{never['id']}: missing in Medusa",
        f"pixlpay_{gone['id']}: deleted at the source but still live in Medusa",
    ]


def test_the_pixlpay_simulator_registers_webhooks_like_its_api_docs() -> None:
    """`POST /webhooks` answers the signing secret once; lists never show it; unknown events are 422."""
    with PixlpayStore("t0ken", webhook_secret="whsec_test") as pixlpay:
        auth = {"Authorization": "Bearer t0ken"}
        url = "http://127.0.0.1:9/webhooks/x"

        created = requests.post(
            f"{pixlpay.base_url}/webhooks",
            json={"url": url, "events": ["product.updated"]},
            headers=auth,
            timeout=5,
        )
        listed = requests.get(f"{pixlpay.base_url}/webhooks", headers=auth, timeout=5)
        unknown = requests.post(
            f"{pixlpay.base_url}/webhooks",
            json={"url": url, "events": ["product.renamed"]},
            headers=auth,
            timeout=5,
        )
        anonymous = requests.get(f"{pixlpay.base_url}/webhooks", timeout=5)

    assert created.status_code == 201
    assert created.json()["data"] | {"created_at": "-"} == {
        "id": 1,
        "url": url,
        "events": ["product.updated"],
        "is_active": True,
        "secret": "whsec_test",
        "created_at": "-",
    }
    assert [set(h) for h in listed.json()["data"]] == [{"id", "url", "events", "is_active", "created_at"}]
    assert unknown.status_code == 422 and "events" in unknown.json()["errors"]
    assert anonymous.status_code == 401


def test_the_pixlpay_simulator_signs_each_delivery_and_only_calls_loopback() -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    with PixlpayStore(webhook_secret="whsec_test") as pixlpay, _Recorder(received) as recorder:
        pixlpay.create_webhook(recorder.url, ["product.created", "product.deleted"])
        pixlpay.create_webhook("https://example.com/hooks", ["product.created"])  # never contacted
        product = pixlpay.create_product("VIP Rank", "9.99")
        pixlpay.update_product(product["id"], price="10.00")  # not subscribed: no delivery
        pixlpay.delete_product(product["id"])
        assert pixlpay.wait_for_deliveries(timeout=10)
        deliveries = pixlpay.deliveries

    assert [(d.scope, d.destination == recorder.url, d.delivered) for d in deliveries] == [
        ("product.created", True, True),
        ("product.created", False, False),
        ("product.deleted", True, True),
    ]
    assert "loopback" in str(deliveries[1].error)
    signing = Signing(scheme="pixlpay", secrets=[SecretStr("whsec_test")])
    for headers, body in received:
        verify(signing, {k.lower(): v for k, v in headers.items()}, body, now=time.time())  # raises if forged
        payload = json.loads(body)
        assert payload["data"] == {"product_id": product["id"]}
        assert headers["X-Pixlpay-Event"] == payload["event_type"]
        assert headers["X-Pixlpay-Delivery-Id"] == payload["id"]


class _Recorder:
    """A loopback HTTP endpoint that records each POST (headers, raw body) and answers 200."""

    def __init__(self, into: list[tuple[dict[str, str], bytes]]) -> None:
        received = into

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/pixlpay-to-medusa"

    def __enter__(self) -> _Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()
