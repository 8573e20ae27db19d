"""Events in the exact shapes `sam local invoke` feeds the functions, signed with the local secrets.

`write_samples()` regenerates the committed `events/` folder; `webhook_event()` backs
`catalog-sync local generate-event`, shaping the notification as the connection's source sends it:
a BigCommerce notification signed with Standard Webhooks, or a Pixlpay event (`{id, event_type,
created_at, data{product_id}}`) signed with `X-Pixlpay-Signature`. A Standard Webhooks signature is valid
for 5 minutes, so committed BigCommerce samples verify at their own timestamp and are refused later as
replays: generate a fresh one to invoke the receiver for real. Pixlpay signs no timestamp: its samples
are refused once their `created_at` is older than the receiver's replay window (the event retention).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from catalog_sync.signatures import sign_pixlpay, sign_standard_webhooks
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime import http_api_event, scheduled_event, sqs_event
from catalog_sync_local.stack import HttpRoute

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_ROUTE = HttpRoute("POST", "/webhooks/{connection}")
STATUS_ROUTE = HttpRoute("GET", "/status/{connection}", authorizer="AWS_IAM")
REGION = "us-east-1"
SAMPLE_QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:catalog-sync-SyncQueue"


LOCAL_CONNECTIONS = REPO / "config" / "connections.local.yaml"
PIXLPAY_CONNECTION = "pixlpay-to-medusa"
PIXLPAY_PRODUCT_EVENTS = ("product.created", "product.updated", "product.deleted")


def local_signing_secret(connection: str, path: Path = LOCAL_CONNECTIONS) -> str:
    doc = yaml.safe_load(path.read_text())
    return str(doc["connections"][connection]["signing"]["secrets"][0])


def source_kind(connection: str, path: Path = LOCAL_CONNECTIONS) -> str:
    """The kind of a local connection's source ("bigcommerce" when the document names none)."""
    doc = yaml.safe_load(path.read_text())
    return str(doc["connections"][connection]["source"].get("kind", "bigcommerce"))


def default_scope(kind: str) -> str:
    return "product.updated" if kind == "pixlpay" else "store/product/updated"


def bigcommerce_notification(
    scope: str, entity_id: int, *, created_at: int, store_id: str = "1025646", product_id: int | None = None
) -> dict[str, Any]:
    """A notification shaped like BigCommerce's documented samples."""
    resource = scope.split("/")[1]
    data: dict[str, Any] = {"type": resource, "id": entity_id}
    if resource == "sku":
        data["sku"] = {"product_id": product_id or entity_id, "variant_id": entity_id}
    return {
        "scope": scope,
        "store_id": store_id,
        "data": data,
        "hash": uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}/{entity_id}/{created_at}").hex,
        "created_at": created_at,
        "producer": f"stores/{store_id}",
    }


def pixlpay_notification(
    event_type: str, product_id: int, *, created_at: float, delivery_id: str | None = None
) -> dict[str, Any]:
    """A product event shaped like Pixlpay's documented payloads (docs.pixlpay.net webhooks/events)."""
    return {
        "id": delivery_id or f"wh_del_{uuid.uuid4().hex[:24]}",
        "event_type": event_type,
        "created_at": datetime.fromtimestamp(created_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": {"product_id": product_id},
    }


def webhook_event(
    connection: str,
    scope: str,
    entity_id: int,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    delivery_id: str | None = None,
    product_id: int | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API v2 event for POST /webhooks/{connection}, as the connection's source sends it: a
    BigCommerce notification with a Standard Webhooks signature, or a Pixlpay event (`scope` is then its
    event type, e.g. product.updated) with `X-Pixlpay-Signature`."""
    ts = int(time.time()) if timestamp is None else timestamp
    key = secret or local_signing_secret(connection)
    if source_kind(connection) == "pixlpay":
        notification = pixlpay_notification(scope, entity_id, created_at=ts, delivery_id=delivery_id)
        body = json.dumps(notification).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "Pixlpay-Webhooks/1.0",
            "x-pixlpay-event": scope,
            "x-pixlpay-delivery-id": notification["id"],
            **sign_pixlpay(key, body),
        }
    else:
        body = json.dumps(
            bigcommerce_notification(scope, entity_id, created_at=ts, product_id=product_id)
        ).encode()
        msg_id = delivery_id or f"msg_{uuid.uuid4().hex}"
        headers = {
            "content-type": "application/json",
            "user-agent": "BigCommerce-Webhooks",
            **sign_standard_webhooks(key, msg_id, ts, body),
        }
    event = http_api_event(
        "POST", f"/webhooks/{connection}", WEBHOOK_ROUTE, {"connection": connection}, headers, body
    )
    if base64_body:
        import base64

        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    return event


def sync_batch_event(requests: list[SyncRequest]) -> dict[str, Any]:
    now_ms = str(int(time.time() * 1000))
    messages = [
        {
            "MessageId": str(uuid.uuid5(uuid.NAMESPACE_OID, r.model_dump_json())),
            "ReceiptHandle": f"local-receipt-{i}",
            "Body": r.model_dump_json(),
            "Attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": now_ms,
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": now_ms,
            },
            "MD5OfBody": "",
        }
        for i, r in enumerate(requests)
    ]
    return sqs_event(messages, SAMPLE_QUEUE_ARN, REGION)


# The simulator numbers products from 101 like a fresh store: the samples name its first two products.
FIRST_PRODUCT, SECOND_PRODUCT = 101, 102
# The Pixlpay simulator numbers products from 1.
FIRST_PIXLPAY_PRODUCT, SECOND_PIXLPAY_PRODUCT = 1, 2


def status_event(connection: str) -> dict[str, Any]:
    """GET /status/{connection} as API Gateway hands it to the function once IAM has let it through."""
    return http_api_event(
        "GET", f"/status/{connection}", STATUS_ROUTE, {"connection": connection}, {"host": "127.0.0.1"}, b""
    )


def write_samples(folder: Path = REPO / "events") -> list[Path]:
    """Regenerate the committed sample events (deterministic apart from the signing time)."""
    connection = "store-a-to-b"
    ts = int(time.time())
    samples: dict[str, dict[str, Any]] = {
        "webhook_receiver/product_updated.json": webhook_event(
            connection,
            "store/product/updated",
            FIRST_PRODUCT,
            timestamp=ts,
            delivery_id="msg_sample_product_updated",
        ),
        "webhook_receiver/product_created_base64.json": webhook_event(
            connection,
            "store/product/created",
            FIRST_PRODUCT,
            timestamp=ts,
            delivery_id="msg_sample_product_created",
            base64_body=True,
        ),
        "webhook_receiver/sku_updated.json": webhook_event(
            connection,
            "store/sku/updated",
            11,
            product_id=FIRST_PRODUCT,
            timestamp=ts,
            delivery_id="msg_sample_sku_updated",
        ),
        "sync_consumer/product_batch.json": sync_batch_event(
            [
                SyncRequest(
                    connection=connection, entity_type="product", entity_id=FIRST_PRODUCT, delivery_id=None
                ),
                SyncRequest(
                    connection=connection, entity_type="product", entity_id=SECOND_PRODUCT, origin="pull"
                ),
            ]
        ),
        "webhook_receiver/pixlpay_product_updated.json": webhook_event(
            PIXLPAY_CONNECTION,
            "product.updated",
            FIRST_PIXLPAY_PRODUCT,
            timestamp=ts,
            delivery_id="wh_del_sample_product_updated",
        ),
        "sync_consumer/pixlpay_product_batch.json": sync_batch_event(
            [
                SyncRequest(
                    connection=PIXLPAY_CONNECTION,
                    entity_type="product",
                    entity_id=FIRST_PIXLPAY_PRODUCT,
                    delivery_id=None,
                ),
                SyncRequest(
                    connection=PIXLPAY_CONNECTION,
                    entity_type="product",
                    entity_id=SECOND_PIXLPAY_PRODUCT,
                    origin="pull",
                ),
            ]
        ),
        "pull_sync/scheduled.json": scheduled_event("catalog-sync-PullSyncSchedule", REGION),
        "full_sync/scheduled.json": scheduled_event("catalog-sync-FullSyncSchedule", REGION),
        "event_cleanup/scheduled.json": scheduled_event("catalog-sync-EventCleanupSchedule", REGION),
        "status_api/store_a_to_b.json": status_event(connection),
    }
    written = []
    for relative, event in samples.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event, indent=2) + "\n")
        written.append(path)
    return written
