"""Issue 5: the webhook receiver, end to end through the deployable handler on the local stack.

Every request goes through template.yaml's WebhookReceiverFunction (LocalRuntime, in process) against
moto's DynamoDB, SQS and Secrets Manager. One stack serves the module; each test starts from an empty
events table and queue and the committed connections plus one connection per signing scheme.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import default_session
from catalog_sync import services
from catalog_sync.signatures import (
    sign_bigcommerce_legacy,
    sign_pixlpay,
    sign_shopify,
    sign_standard_webhooks,
)
from catalog_sync_local.demo.sample_events import WEBHOOK_ROUTE, bigcommerce_notification
from catalog_sync_local.runtime.local_runtime import HttpResult, LocalRuntime, http_api_event
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.runtime.stack import load_template
from tests.integration.conftest import CONNECTION

RECEIVER = "WebhookReceiverFunction"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"receiver-tests-standard-key-0001").decode()
ROTATED_SECRET = "whsec_" + base64.b64encode(b"receiver-tests-rotated-key-00002").decode()
LEGACY_SECRET = "legacy-shared-secret-for-tests"
SHOPIFY_SECRET = "shopify-app-secret-for-tests"
PIXLPAY_SECRET = "pixlpay-secret-for-tests"
LEGACY_HEADER = "X-Catalog-Sync-Secret"

# One connection per signing scheme; the BigCommerce ones reuse store-a-to-b's stores.
SCHEME_CONNECTIONS = {
    "standard": ("standard-webhooks", "bigcommerce", [STANDARD_SECRET]),
    "legacy": ("bigcommerce-legacy", "bigcommerce", [LEGACY_SECRET]),
    "shopify": ("shopify", "bigcommerce", [SHOPIFY_SECRET]),
    "pixlpay": ("pixlpay", "pixlpay", [PIXLPAY_SECRET]),
}


# --------------------------------------------------------------------------------------------------
# Fixtures and request helpers
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[Sandbox]:
    with Sandbox(register_webhooks=False) as box:
        yield box


@pytest.fixture
def box(stack: Sandbox) -> Sandbox:
    """The module's stack, emptied: no events, no messages, the test connections, cold caches."""
    base = stack.connection(CONNECTION)
    for name, (scheme, kind, secrets) in SCHEME_CONNECTIONS.items():
        source: dict[str, Any] = copy.deepcopy(base["source"])
        if kind == "pixlpay":
            source = {"kind": "pixlpay", "api_url": "http://127.0.0.1:9", "api_token": "local-pixlpay-token"}
        stack.connections_doc["connections"][name] = {
            "source": source,
            "destination": copy.deepcopy(base["destination"]),
            "signing": {"scheme": scheme, "secrets": list(secrets), "header_name": LEGACY_HEADER},
            "scopes": ["product.*"] if kind == "pixlpay" else ["store/product/*", "store/sku/*"],
        }
    stack.update_connection(CONNECTION)  # publishes the whole document
    _empty(stack)
    services.reset()
    return stack


def _empty(box: Sandbox) -> None:
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    table = box.stack.resources["EventsTable"]
    for item in box.events():
        dynamodb.delete_item(TableName=table, Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})
    for logical_id in ("SyncQueue", "SyncDeadLetterQueue"):
        url = box.stack.queues[logical_id].url
        for _ in range(100):  # PurgeQueue is once a minute; delete what is there instead
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for m in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _event(
    connection: str, body: bytes, headers: dict[str, str], *, as_base64: bool = False
) -> dict[str, Any]:
    event = http_api_event(
        "POST", f"/webhooks/{connection}", WEBHOOK_ROUTE, {"connection": connection}, headers, body
    )
    if as_base64:
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    return event


def _invoke(runtime: LocalRuntime, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = runtime.invoke(RECEIVER, event)
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def _bc_body(scope: str = "store/product/updated", entity_id: int = 101, **extra: Any) -> bytes:
    payload = bigcommerce_notification(scope, entity_id, created_at=int(time.time()))
    payload.update(extra)
    return json.dumps(payload).encode()


def _pixlpay_body(event_type: str = "product.updated", product_id: int = 7, **extra: Any) -> bytes:
    payload: dict[str, Any] = {
        "id": f"wh_del_{uuid.uuid4().hex}",
        "event_type": event_type,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": {"product_id": product_id},
    }
    payload.update(extra)
    return json.dumps(payload).encode()


def _signed(
    scheme: str, body: bytes, *, secret: str | None = None, msg_id: str | None = None
) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    match scheme:
        case "standard":
            ts = int(time.time())
            headers |= sign_standard_webhooks(
                secret or STANDARD_SECRET, msg_id or f"msg_{uuid.uuid4().hex}", ts, body
            )
        case "legacy":
            headers |= sign_bigcommerce_legacy(secret or LEGACY_SECRET, LEGACY_HEADER)
        case "shopify":
            headers |= sign_shopify(secret or SHOPIFY_SECRET, body, webhook_id=msg_id)
        case "pixlpay":
            headers |= sign_pixlpay(secret or PIXLPAY_SECRET, body)
    return headers


def _body_for(scheme: str) -> bytes:
    return _pixlpay_body() if scheme == "pixlpay" else _bc_body()


# --------------------------------------------------------------------------------------------------
# 1. Signature schemes, chosen per connection
# --------------------------------------------------------------------------------------------------


def _expected_delivery_id(scheme: str, body: bytes, msg_id: str) -> str:
    payload = json.loads(body)
    return {
        "standard": msg_id,  # the signed webhook-id header
        "legacy": payload.get("hash"),  # BigCommerce's delivery hash
        "shopify": msg_id,  # X-Shopify-Webhook-Id
        "pixlpay": payload.get("id"),  # Pixlpay's delivery id in the payload
    }[scheme]


@pytest.mark.parametrize("as_base64", [False, True], ids=["text", "base64"])
@pytest.mark.parametrize("scheme", sorted(SCHEME_CONNECTIONS))
def test_each_scheme_accepts_a_valid_delivery_stores_it_once_and_queues_it(
    box: Sandbox, scheme: str, as_base64: bool
) -> None:
    body, msg_id = _body_for(scheme), f"msg_{uuid.uuid4().hex}"

    status, answer = _invoke(
        box.runtime, _event(scheme, body, _signed(scheme, body, msg_id=msg_id), as_base64=as_base64)
    )

    assert (status, answer["status"]) == (200, "accepted")
    assert answer["delivery_id"] == _expected_delivery_id(scheme, body, msg_id)
    [stored] = box.events()
    assert (stored["pk"], stored["sk"], stored["status"]) == (scheme, answer["delivery_id"], "received")
    assert box.queue_depth("SyncQueue") == 1


def test_pixlpay_payloads_without_an_id_are_never_taken_for_duplicates(box: Sandbox) -> None:
    # Two edits of one product within a second: the documented `event` + `timestamp` shape makes
    # byte-identical bodies, and without a timestamp every later update would look the same too.
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    bodies = [
        json.dumps({"event": "product.updated", "timestamp": stamp, "data": {"product_id": 9}}).encode(),
        json.dumps({"event": "product.updated", "data": {"product_id": 9}}).encode(),
    ]

    answers = [
        _invoke(box.runtime, _event("pixlpay", body, _signed("pixlpay", body)))
        for body in bodies
        for _ in range(2)
    ]

    assert [(s, a["status"]) for s, a in answers] == [(200, "accepted")] * 4
    ids = [a["delivery_id"] for _, a in answers]
    assert len(set(ids)) == 4
    digests = ["sha256:" + hashlib.sha256(bodies[n // 2]).hexdigest() for n in range(4)]
    assert all(i.startswith(d) for i, d in zip(ids, digests, strict=True))
    assert box.queue_depth("SyncQueue") == 4


FORGERIES = [
    (scheme, forgery)
    for scheme in sorted(SCHEME_CONNECTIONS)
    for forgery in ("tampered", "wrong_secret", "unsigned")
    # The legacy scheme sends a shared secret, not a MAC of the body: a body change cannot show.
    if (scheme, forgery) != ("legacy", "tampered")
]


@pytest.mark.parametrize(("scheme", "forgery"), FORGERIES)
def test_each_scheme_refuses_forgeries_with_401_and_stores_nothing(
    box: Sandbox, scheme: str, forgery: str
) -> None:
    body = _body_for(scheme)
    wrong = "whsec_" + base64.b64encode(b"an-attacker-guessed-this-key-xxx").decode()
    headers = _signed(
        scheme, body, secret=wrong if forgery == "wrong_secret" and scheme == "standard" else None
    )
    if forgery == "wrong_secret" and scheme != "standard":
        headers = _signed(scheme, body, secret="attacker-guess")
    if forgery == "tampered":
        body = body.replace(b"store/product/updated", b"store/product/deleted")
        body = body.replace(b"product.updated", b"product.deleted")
    if forgery == "unsigned":
        headers = {"content-type": "application/json"}

    status, answer = _invoke(box.runtime, _event(scheme, body, headers))

    assert status == 401
    expected = "missing_signature_header" if forgery == "unsigned" else "invalid_signature"
    assert answer["error"] == expected
    assert box.events() == []
    assert box.queue_depth("SyncQueue") == 0


# A minute past the 300 s tolerance either way: the invocation itself takes time, so a skew of
# exactly 301 s drifts back inside the window before the receiver reads the clock.
@pytest.mark.parametrize("skew", [-360, 360], ids=["expired", "future"])
def test_standard_webhooks_outside_the_5_minute_tolerance_are_refused(box: Sandbox, skew: int) -> None:
    body = _bc_body()
    headers = {"content-type": "application/json"} | sign_standard_webhooks(
        STANDARD_SECRET, "msg_skewed", int(time.time()) + skew, body
    )

    status, answer = _invoke(box.runtime, _event("standard", body, headers))

    assert (status, answer["error"]) == (401, "timestamp_out_of_tolerance")
    assert box.events() == []


def test_an_undecodable_secret_is_a_500_so_the_provider_retries_and_nothing_is_stored(box: Sandbox) -> None:
    box.connection("standard")["signing"]["secrets"] = ["whsec_"]
    box.update_connection("standard")
    body = _bc_body()

    status, answer = _invoke(box.runtime, _event("standard", body, _signed("standard", body)))

    assert (status, answer["error"]) == (500, "configuration_error")
    assert box.events() == []


# --------------------------------------------------------------------------------------------------
# Secrets Manager rotation and the 300 s cache
# --------------------------------------------------------------------------------------------------


def test_a_rotation_keeps_old_and_new_deliveries_accepted_and_the_cache_expires_after_its_ttl(
    box: Sandbox,
) -> None:
    shift = [0.0]

    def deliver(secret: str) -> int:
        body = _bc_body(entity_id=int(uuid.uuid4().int % 10_000) + 1)
        status, _ = _invoke(box.runtime, _event("standard", body, _signed("standard", body, secret=secret)))
        if shift[0] == 0.0:  # the first call built this container's services: give them our clock
            services.get_services().clock = lambda: time.monotonic() + shift[0]
        return status

    def publish(*secrets: str) -> None:
        box.connection("standard")["signing"]["secrets"] = list(secrets)
        box.update_connection("standard")

    assert deliver(STANDARD_SECRET) == 200
    shift[0] = 1.0
    assert deliver(ROTATED_SECRET) == 401

    publish(ROTATED_SECRET, STANDARD_SECRET)  # rotation starts: both live
    assert [deliver(STANDARD_SECRET), deliver(ROTATED_SECRET)] == [200, 401]  # still the cached document
    shift[0] = 301.0
    assert [deliver(STANDARD_SECRET), deliver(ROTATED_SECRET)] == [200, 200]  # re-read after the TTL

    publish(ROTATED_SECRET)  # rotation ends: only the new secret
    assert deliver(STANDARD_SECRET) == 200  # cached for up to 300 s more
    shift[0] = 602.0
    assert [deliver(STANDARD_SECRET), deliver(ROTATED_SECRET)] == [401, 200]


# --------------------------------------------------------------------------------------------------
# 2. Payload models per source kind
# --------------------------------------------------------------------------------------------------


def _queued_requests(box: Sandbox) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    resp = sqs.receive_message(
        QueueUrl=box.stack.queues["SyncQueue"].url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in resp.get("Messages", [])]


@pytest.mark.parametrize(
    ("scope", "data", "expected"),
    [
        ("store/product/inventory/updated", {"type": "product", "id": 167}, ("product", 167, "upsert")),
        (
            "store/product/inventory/order/updated",
            {
                "type": "product",
                "id": 167,
                "inventory": {"product_id": 167, "method": "relative", "value": -2},
            },
            ("product", 167, "upsert"),
        ),
        (
            "store/sku/inventory/updated",
            {
                "type": "sku",
                "id": 461,
                "inventory": {"product_id": 168, "method": "absolute", "value": 2, "variant_id": 509},
            },
            ("product", 168, "upsert"),
        ),
        (
            "store/sku/inventory/order/updated",
            {
                "type": "sku",
                "id": 461,
                "inventory": {"product_id": 169, "method": "relative", "value": -1, "variant_id": 509},
            },
            ("product", 169, "upsert"),
        ),
        ("store/product/deleted", {"type": "product", "id": 205}, ("product", 205, "delete")),
    ],
)
def test_bigcommerce_inventory_and_product_scopes_queue_a_resync_of_the_product(
    box: Sandbox, scope: str, data: dict[str, Any], expected: tuple[str, int, str]
) -> None:
    body = json.dumps({**json.loads(_bc_body(scope)), "data": data}).encode()

    status, answer = _invoke(box.runtime, _event("legacy", body, _signed("legacy", body)))

    assert (status, answer["status"]) == (200, "accepted")
    [request] = _queued_requests(box)
    assert (request["entity_type"], request["entity_id"], request["action"]) == expected


@pytest.mark.parametrize(
    ("connection", "body"),
    [
        ("legacy", _bc_body("store/order/created", 5)),
        (
            "legacy",
            json.dumps(
                {**json.loads(_bc_body("store/cart/lineItem/added")), "data": {"type": "cart", "id": "c-9"}}
            ).encode(),
        ),
        ("legacy", _bc_body("store/category/updated", 3)),  # valid, but not in this connection's scopes
        ("pixlpay", _pixlpay_body("order.paid", data={"id": 1, "order_number": "ORD-1"})),
    ],
    ids=["bc-order", "bc-cart-camelcase", "bc-scope-not-synced", "pixlpay-order"],
)
def test_unknown_or_unsynced_topics_are_acknowledged_and_recorded_as_ignored(
    box: Sandbox, connection: str, body: bytes
) -> None:
    status, answer = _invoke(box.runtime, _event(connection, body, _signed(connection, body)))

    assert (status, answer["status"]) == (200, "ignored")
    assert [e["status"] for e in box.events()] == ["ignored"]
    assert box.queue_depth("SyncQueue") == 0


def test_pixlpay_product_events_name_the_product_and_the_action(box: Sandbox) -> None:
    for event_type, product_id in (("product.created", 11), ("product.deleted", 12)):
        body = _pixlpay_body(event_type, product_id)
        assert _invoke(box.runtime, _event("pixlpay", body, _signed("pixlpay", body)))[0] == 200

    requests = sorted((r["entity_id"], r["action"], r["connection"]) for r in _queued_requests(box))
    assert requests == [(11, "upsert", "pixlpay"), (12, "delete", "pixlpay")]


# --------------------------------------------------------------------------------------------------
# 3. Durability before the acknowledgement
# --------------------------------------------------------------------------------------------------


def test_the_same_delivery_five_times_is_one_event_one_sync_and_five_200s(box: Sandbox) -> None:
    product = box.source_store(CONNECTION).create_product(
        {"name": "Five Times Lamp", "type": "physical", "sku": "FIVE-1", "price": 15, "weight": 1}
    )
    body = _bc_body(entity_id=product["id"])
    event = _event("standard", body, _signed("standard", body, msg_id="msg_five_times"))

    answers = [_invoke(box.runtime, event) for _ in range(5)]
    box.runtime.drain(batching_window=True)

    assert [s for s, _ in answers] == [200] * 5
    assert [a["status"] for _, a in answers] == ["accepted"] + ["duplicate"] * 4
    assert len(box.events()) == 1
    assert [e["status"] for e in box.events()] == ["processed"]
    destination = box.destination_store(CONNECTION)
    assert [p["name"] for p in destination.products() if p["sku"] == "FIVE-1"] == ["Five Times Lamp"]
    assert [r.path for r in destination.request_log if r.method == "POST"] == ["/catalog/products"]


def test_a_processed_event_delivered_again_is_a_duplicate_and_queues_nothing(box: Sandbox) -> None:
    body = _bc_body()
    event = _event("standard", body, _signed("standard", body, msg_id="msg_after_sync"))
    assert _invoke(box.runtime, event)[1]["status"] == "accepted"
    box.runtime.drain()
    assert [e["status"] for e in box.events()] == ["processed"]

    assert _invoke(box.runtime, event)[1]["status"] == "duplicate"
    assert box.queue_depth("SyncQueue") == 0


def test_a_retry_of_an_event_stored_but_never_queued_queues_it(box: Sandbox) -> None:
    """The invocation that stored the event died before its SQS send (a timeout, a killed container):
    the provider got no answer and retries. The retry must queue it, not answer 'duplicate' and leave
    it for the sweeper (found by make chaos, issue 13)."""
    product = box.source_store(CONNECTION).create_product(
        {"name": "Half Stored Lamp", "type": "physical", "sku": "HALF-1", "price": 15, "weight": 1}
    )
    body = _bc_body(entity_id=product["id"])
    event = _event("standard", body, _signed("standard", body, msg_id="msg_died_before_send"))
    missing_queue = box.stack.queues["SyncQueue"].url + "-missing"
    broken = LocalRuntime(box.stack, env_overrides={RECEIVER: {"SYNC_QUEUE_URL": missing_queue}})
    died = _invoke(broken, event)  # stored; the send failed as if the container had died then
    assert [(e["sk"], e["status"]) for e in box.events()] == [("msg_died_before_send", "received")]
    assert box.queue_depth("SyncQueue") == 0
    services.reset()

    status, answer = _invoke(box.runtime, event)

    assert died[0] == 200 and status == 200
    assert box.queue_depth("SyncQueue") == 1
    box.runtime.drain()
    copied = [p["name"] for p in box.destination_store(CONNECTION).products() if p["sku"] == "HALF-1"]
    assert copied == ["Half Stored Lamp"]
    assert [e["status"] for e in box.events()] == ["processed"]
    assert answer["status"] == "duplicate"


def test_an_sqs_outage_after_the_write_answers_200_loses_nothing_and_the_sweeper_requeues_it(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = box.source_store(CONNECTION).create_product(
        {"name": "Outage Lamp", "type": "physical", "sku": "OUT-1", "price": 15, "weight": 1}
    )
    missing_queue = box.stack.queues["SyncQueue"].url + "-missing"
    outage = LocalRuntime(box.stack, env_overrides={RECEIVER: {"SYNC_QUEUE_URL": missing_queue}})
    body = _bc_body(entity_id=product["id"])

    status, answer = _invoke(outage, _event("standard", body, _signed("standard", body, msg_id="msg_outage")))

    assert (status, answer["status"]) == (200, "accepted")
    assert [(e["sk"], e["status"]) for e in box.events()] == [("msg_outage", "received")]
    assert box.queue_depth("SyncQueue") == 0

    stuck_after = int(box.stack.functions["EventCleanupFunction"].environment["STUCK_AFTER_SECONDS"])
    later = time.time() + stuck_after + 1
    monkeypatch.setattr(time, "time", lambda: later)
    report = box.runtime.fire_schedule("EventCleanupFunction")
    monkeypatch.undo()

    assert report["requeued"] == 1
    assert box.queue_depth("SyncQueue") == 1
    box.runtime.drain()
    [copied] = [p for p in box.destination_store(CONNECTION).products() if p["sku"] == "OUT-1"]
    assert copied["name"] == "Outage Lamp"
    assert [e["status"] for e in box.events()] == ["processed"]


def test_dynamodb_unavailable_is_a_503_and_nothing_is_queued(box: Sandbox) -> None:
    outage = LocalRuntime(box.stack, env_overrides={RECEIVER: {"EVENTS_TABLE_NAME": "no-such-table"}})
    body = _bc_body()

    status, answer = _invoke(outage, _event("standard", body, _signed("standard", body)))

    assert (status, answer["error"]) == (503, "storage_unavailable")
    assert box.queue_depth("SyncQueue") == 0
    assert box.events() == []


def test_events_are_kept_longer_than_bigcommerces_48_hour_retry_horizon(box: Sandbox) -> None:
    parameter = load_template(box.template_path)["Parameters"]["EventRetentionDays"]
    bigcommerce_retry_horizon_h = 48

    assert int(parameter["Default"]) * 24 >= bigcommerce_retry_horizon_h
    assert int(parameter["MinValue"]) * 24 >= bigcommerce_retry_horizon_h
    receiver_env = box.stack.functions[RECEIVER].environment
    assert int(receiver_env["EVENT_RETENTION_DAYS"]) == int(parameter["Default"])


# --------------------------------------------------------------------------------------------------
# 4. Limits and bad input: 4xx JSON naming the problem, never stored
# --------------------------------------------------------------------------------------------------


def _deep(levels: int) -> bytes:
    return json.dumps({**json.loads(_bc_body()), "extra": json.loads("[" * levels + "]" * levels)}).encode()


BAD_REQUESTS: dict[str, tuple[Callable[[], tuple[str, bytes, dict[str, str], bool]], int, str]] = {
    "body too large": (
        lambda: ("legacy", b'{"pad": "' + b"x" * 300_000 + b'"}', _signed("legacy", b""), False),
        413,
        "payload_too_large",
    ),
    "base64 body too large": (
        lambda: ("legacy", b"x" * 300_000, _signed("legacy", b""), True),
        413,
        "payload_too_large",
    ),
    "wrong content type": (
        lambda: (
            "standard",
            _bc_body(),
            {**_signed("standard", _bc_body()), "content-type": "text/plain"},
            False,
        ),
        415,
        "unsupported_media_type",
    ),
    "json nested too deep": (
        lambda: ("legacy", _deep(40), _signed("legacy", b""), False),
        400,
        "invalid_payload",
    ),
    "invalid json": (
        lambda: ("legacy", b'{"scope": ', _signed("legacy", b""), False),
        400,
        "invalid_payload",
    ),
    "NaN in json": (
        lambda: ("legacy", b'{"created_at": NaN}', _signed("legacy", b""), False),
        400,
        "invalid_payload",
    ),
    "huge integer": (
        lambda: ("legacy", b'{"created_at": ' + b"9" * 5000 + b"}", _signed("legacy", b""), False),
        400,
        "invalid_payload",
    ),
    "not utf-8": (
        lambda: ("legacy", b'{"scope": "\xff"}', _signed("legacy", b""), True),
        400,
        "invalid_payload",
    ),
    "schema: no data.id": (
        lambda: (
            "legacy",
            json.dumps({**json.loads(_bc_body()), "data": {"type": "product"}}).encode(),
            _signed("legacy", b""),
            False,
        ),
        400,
        "invalid_payload",
    ),
    "schema: pixlpay product without id": (
        lambda: ("pixlpay", (b := _pixlpay_body(data={"name": "x"})), _signed("pixlpay", b), False),
        400,
        "invalid_payload",
    ),
    "unknown connection": (
        lambda: ("nobody", _bc_body(), _signed("legacy", b""), False),
        404,
        "unknown_connection",
    ),
    "missing signature headers": (
        lambda: ("standard", _bc_body(), {"content-type": "application/json"}, False),
        401,
        "missing_signature_header",
    ),
    "replayed old delivery": (
        lambda: ("legacy", _bc_body(created_at=int(time.time()) - 8 * 86_400), _signed("legacy", b""), False),
        400,
        "delivery_too_old",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_requests_are_4xx_json_naming_the_problem_and_nothing_is_stored(box: Sandbox, case: str) -> None:
    build, expected_status, expected_error = BAD_REQUESTS[case]
    connection, body, headers, as_base64 = build()

    status, answer = _invoke(box.runtime, _event(connection, body, headers, as_base64=as_base64))

    assert (status, answer["error"]) == (expected_status, expected_error)
    assert answer["message"]
    assert box.events() == []
    assert box.queue_depth("SyncQueue") == 0


def test_an_invalid_base64_body_is_a_400(box: Sandbox) -> None:
    event = _event("legacy", _bc_body(), _signed("legacy", b""))
    event["body"], event["isBase64Encoded"] = "not base64 !!!", True

    status, answer = _invoke(box.runtime, event)

    assert (status, answer["error"]) == (400, "invalid_payload")
    assert "base64" in answer["message"]


def test_a_wrong_method_is_a_json_405_and_an_unknown_route_a_json_404(box: Sandbox) -> None:
    event = _event("legacy", _bc_body(), _signed("legacy", b""))
    event["requestContext"]["http"]["method"] = "GET"

    status, answer = _invoke(box.runtime, event)
    through_the_api: HttpResult = box.runtime.http("GET", "/webhooks/legacy")
    no_route: HttpResult = box.runtime.http("POST", "/hooks")

    assert (status, answer["error"]) == (405, "method_not_allowed")
    assert through_the_api.status in (404, 405) and through_the_api.json()
    assert no_route.status == 404 and no_route.json()
    assert box.events() == []


# --------------------------------------------------------------------------------------------------
# Logging: a delivery id and outcome, never a secret or the payload
# --------------------------------------------------------------------------------------------------


def test_logs_name_the_delivery_and_outcome_but_never_a_secret_or_the_payload(
    box: Sandbox, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    marker = "PAYLOAD-MARKER-" + uuid.uuid4().hex
    body = _bc_body(producer=marker)
    forged = {**_signed("legacy", body), LEGACY_HEADER.lower(): "guess-" + marker}
    stream = io.StringIO()
    handlers = [h for h in logging.getLogger("catalog-sync").handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(stream) for h in handlers]
    caplog.set_level(logging.DEBUG, logger="catalog_sync")
    try:
        accepted = _invoke(box.runtime, _event("legacy", body, _signed("legacy", body)))
        refused = _invoke(box.runtime, _event("legacy", body, forged))
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            if old is not None:
                handler.setStream(old)
    output = stream.getvalue() + capsys.readouterr().out + caplog.text

    assert (accepted[0], refused[0]) == (200, 401)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    [done] = [line for line in lines if line.get("message") == "webhook"]
    assert (done["delivery_id"], done["outcome"]) == (json.loads(body)["hash"], "accepted")
    assert any(line.get("error") == "invalid_signature" for line in lines)
    assert LEGACY_SECRET not in output
    assert marker not in output
    assert body.decode() not in output


# --------------------------------------------------------------------------------------------------
# 6. Speed: at most two AWS calls per accepted webhook
# --------------------------------------------------------------------------------------------------


def test_a_warm_receiver_makes_two_aws_calls_per_accepted_webhook(box: Sandbox) -> None:
    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}.{model.name}")

    session = default_session()
    session.events.register("before-call", count, unique_id="receiver-call-count")
    try:
        services.reset()  # clients are created from the session from here on, with the counter
        warm_up = _bc_body(entity_id=1)
        assert _invoke(box.runtime, _event("standard", warm_up, _signed("standard", warm_up)))[0] == 200
        calls.clear()
        for i in range(20):
            body = _bc_body(entity_id=100 + i)
            assert (
                _invoke(box.runtime, _event("standard", body, _signed("standard", body)))[1]["status"]
                == "accepted"
            )
    finally:
        session.events.unregister("before-call", unique_id="receiver-call-count")

    assert len(calls) == 2 * 20
    assert sorted(set(calls)) == ["dynamodb.PutItem", "sqs.SendMessage"]


# --------------------------------------------------------------------------------------------------
# 5. Fuzz: forged and malformed requests through the real handler (hypothesis, deterministic)
# --------------------------------------------------------------------------------------------------

FUZZ_SETTINGS = settings(
    derandomize=True,  # the same examples on every run: CI is deterministic
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FORGED_EXAMPLES = 300
MALFORMED_EXAMPLES = 150
# The 10,000-request run is a seeded mutation fuzzer (below): hypothesis spends ~5 ms generating each
# example of these rich strategies, which would not fit the suite's time budget at 10,000.
SEEDED_REQUESTS = 10_000
SCHEME_SIGNATURE_HEADER = {
    "standard": "webhook-signature",
    "legacy": LEGACY_HEADER.lower(),
    "shopify": "x-shopify-hmac-sha256",
    "pixlpay": "x-pixlpay-signature",
}
SIGNATURE_HEADERS = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-pixlpay-signature",
    "x-shopify-hmac-sha256",
    "x-shopify-webhook-id",
    LEGACY_HEADER.lower(),
]
BC_SCOPES = sorted(
    {
        "store/product/updated",
        "store/product/deleted",
        "store/sku/updated",
        "store/sku/inventory/updated",
        "store/product/inventory/order/updated",
        "store/category/created",
        "store/order/created",
    }
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
header_values = st.one_of(
    st.text(max_size=60),
    st.just("application/json"),
    st.integers(-(10**12), 10**12).map(str),
    st.builds(lambda: str(int(time.time()))),
    st.binary(min_size=32, max_size=32).map(lambda b: "v1," + base64.b64encode(b).decode()),
    st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
)


@st.composite
def genuine_payloads(draw: st.DrawFn, scheme: str) -> dict[str, Any]:
    if scheme == "pixlpay":
        return json.loads(
            _pixlpay_body(draw(st.sampled_from(["product.updated", "product.deleted", "order.paid"])))
        )
    return json.loads(_bc_body(draw(st.sampled_from(BC_SCOPES)), draw(st.integers(1, 10**6))))


@st.composite
def malformed_bodies(draw: st.DrawFn, scheme: str) -> bytes:
    """Bodies a provider could sign but that are wrong: noise, odd JSON, or a real payload mutated."""
    kind = draw(st.sampled_from(["bytes", "json", "mutated", "mutated", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    payload = draw(genuine_payloads(scheme))
    target = payload if draw(st.booleans()) else payload.setdefault("data", {})
    if not isinstance(target, dict):  # pragma: no cover - data is always a mapping in genuine payloads
        target = payload
    key = draw(st.sampled_from([*sorted(target), "id", "product_id", "sku", "inventory"]))
    if draw(st.booleans()):
        target.pop(key, None)
    else:
        target[key] = draw(json_values)
    return json.dumps(payload).encode()


@st.composite
def forged_requests(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str], bool]:
    """A request not signed by the connection's secret: random headers, a wrong key, or a swapped body."""
    scheme = draw(st.sampled_from(sorted(SCHEME_CONNECTIONS)))
    body = draw(
        st.one_of(malformed_bodies(scheme), genuine_payloads(scheme).map(lambda p: json.dumps(p).encode()))
    )
    how = draw(st.sampled_from(["random_headers", "wrong_secret", "swapped_body"]))
    if how == "swapped_body" and scheme != "legacy":
        other = json.dumps(draw(genuine_payloads(scheme))).encode()
        if other == body:
            body += b" "
        headers = _signed(scheme, other, msg_id="msg_" + draw(st.text("abc123", min_size=1, max_size=8)))
    elif how == "wrong_secret":
        key = draw(st.binary(min_size=1, max_size=40))
        secret = "whsec_" + base64.b64encode(key).decode() if scheme == "standard" else key.hex()
        headers = _signed(scheme, body, secret=secret, msg_id="msg_forged")
    else:
        headers = draw(st.dictionaries(st.sampled_from(SIGNATURE_HEADERS), header_values, max_size=5))
        headers["content-type"] = draw(
            st.sampled_from(["application/json", "application/json; charset=utf-8"])
        )
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=2))
    return scheme, body, {**extra, **headers}, draw(st.booleans())


def test_hypothesis_forged_or_malformed_requests_give_no_5xx_and_accept_no_forgery(box: Sandbox) -> None:
    statuses: Counter[int] = Counter()
    accepted_forgeries: list[tuple[str, bytes]] = []

    @settings(FUZZ_SETTINGS, max_examples=FORGED_EXAMPLES)
    @given(forged_requests())
    def forged(request: tuple[str, bytes, dict[str, str], bool]) -> None:
        scheme, body, headers, as_base64 = request
        status, _ = _invoke(box.runtime, _event(scheme, body, headers, as_base64=as_base64))
        statuses[status] += 1
        if status < 400:
            accepted_forgeries.append((scheme, body))
        assert status < 500

    forged()
    assert accepted_forgeries == []
    assert box.events() == []  # nothing forged was stored
    forged_count = sum(statuses.values())

    @settings(FUZZ_SETTINGS, max_examples=MALFORMED_EXAMPLES)
    @given(
        st.sampled_from(sorted(SCHEME_CONNECTIONS)).flatmap(
            lambda s: st.tuples(st.just(s), malformed_bodies(s))
        )
    )
    def malformed(request: tuple[str, bytes]) -> None:
        scheme, body = request
        status, answer = _invoke(box.runtime, _event(scheme, body, _signed(scheme, body)))
        statuses[status] += 1
        assert status < 500, answer
        assert status in (200, 400), answer

    malformed()

    assert forged_count == FORGED_EXAMPLES
    assert sum(statuses.values()) == FORGED_EXAMPLES + MALFORMED_EXAMPLES
    assert max(statuses) < 500
    assert statuses[401] > 0 and statuses[400] > 0  # both the signature and the schema were exercised


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """One random byte-level mutation: flip, insert, delete, truncate or splice JSON punctuation."""
    if not data:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
    i = rng.randrange(len(data))
    match rng.randrange(5):
        case 0:
            return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
        case 1:
            return data[:i] + rng.choice([b"{", b"}", b"[", b'"', b"\\", b"\xff", b"0", b","]) + data[i:]
        case 2:
            return data[:i] + data[i + 1 :]
        case 3:
            return data[:i]
        case _:
            return data[:i] + data[i:] * 2


def test_ten_thousand_seeded_forged_or_malformed_requests_give_no_5xx_and_accept_no_forgery(
    box: Sandbox,
) -> None:
    rng = random.Random(20261123)  # fixed seed: the same 10,000 requests on every run
    schemes = sorted(SCHEME_CONNECTIONS)
    genuine = {s: [_body_for(s) for _ in range(5)] for s in schemes}
    statuses: Counter[int] = Counter()
    forged_accepted = 0
    for n in range(SEEDED_REQUESTS):
        scheme = rng.choice(schemes)
        body = rng.choice(genuine[scheme])
        for _ in range(rng.randrange(1, 4)):
            body = _mutate(rng, body)
        signed = _signed(scheme, body)
        forged = (
            n % 2 == 0
        )  # half forged (its signature header dropped or altered), half signed but malformed
        headers = dict(signed)
        if forged:
            name = SCHEME_SIGNATURE_HEADER[scheme]
            if rng.random() < 0.3:
                headers.pop(name)
            else:
                value = headers[name]
                for _ in range(10):
                    value = _mutate(rng, value.encode()).decode("utf-8", "replace")
                    if value.strip().lower() != signed[name].lower():
                        break
                headers[name] = value
            if rng.random() < 0.3:  # and noise in another header
                other = rng.choice([h for h in SIGNATURE_HEADERS if h != name])
                headers[other] = _mutate(rng, headers.get(other, "x").encode()).decode("utf-8", "replace")
        status, answer = _invoke(box.runtime, _event(scheme, body, headers, as_base64=rng.random() < 0.2))
        statuses[status] += 1
        assert status < 500, (scheme, body, headers, answer)
        if forged and status < 400:
            forged_accepted += 1

    assert forged_accepted == 0
    assert sum(statuses.values()) == SEEDED_REQUESTS
    assert statuses[401] > 1000 and statuses[400] > 1000
