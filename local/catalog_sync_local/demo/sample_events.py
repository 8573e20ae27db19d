"""Events in the exact shapes `sam local invoke` feeds the functions, signed with the local secrets.

`write_samples()` regenerates the committed `events/` folder; `webhook_event()` backs
`catalog-sync local generate-event`, shaping the notification as the connection's source sends it:
a BigCommerce notification signed with Standard Webhooks, or a Pixlpay event (`{id, event_type,
created_at, data{product_id}}`) signed with `X-Pixlpay-Signature`. A two-way connection's destination
posts to `/webhooks/{connection}/destination`: a BigCommerce store's notification, or our Medusa
subscriber's `{type, timestamp, data{id, external_id, updated_at}}`, both signed with Standard Webhooks
under the connection's `destination_signing` (else its `signing`) secret.

A Standard Webhooks signature is valid for 5 minutes, so committed BigCommerce and Medusa samples verify
at their own timestamp and are refused later as replays: generate a fresh one to invoke the receiver for
real. Pixlpay signs no timestamp: its samples are refused once their `created_at` is older than the
receiver's replay window (the event retention).
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
from catalog_sync.sync_request import Side, SyncRequest
from catalog_sync_local.runtime.local_runtime import http_api_event, scheduled_event, sqs_event
from catalog_sync_local.runtime.stack import HttpRoute
from catalog_sync_local.simulators.medusa.forwarder import forwarded_body

REPO = Path(__file__).resolve().parents[3]
WEBHOOK_ROUTE = HttpRoute("POST", "/webhooks/{connection}")
DESTINATION_WEBHOOK_ROUTE = HttpRoute("POST", "/webhooks/{connection}/destination")
STATUS_ROUTE = HttpRoute("GET", "/status/{connection}", authorizer="AWS_IAM")
REGION = "us-east-1"
SAMPLE_QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:catalog-sync-SyncQueue"


LOCAL_CONNECTIONS = REPO / "config" / "connections.local.yaml"
PIXLPAY_CONNECTION = "pixlpay-to-medusa"
PIXLPAY_PRODUCT_EVENTS = ("product.created", "product.updated", "product.deleted")


def _local_connection(connection: str, path: Path) -> dict[str, Any]:
    """A connection of the local document (KeyError for an unknown name)."""
    doc = yaml.safe_load(path.read_text())
    return dict(doc["connections"][connection])


def local_signing_secret(connection: str, path: Path = LOCAL_CONNECTIONS, *, side: Side = "source") -> str:
    """The secret a side signs with: a destination's `destination_signing`, else the connection's."""
    config = _local_connection(connection, path)
    signing = config.get("destination_signing") if side == "destination" else None
    return str((signing or config["signing"])["secrets"][0])


def source_kind(connection: str, path: Path = LOCAL_CONNECTIONS) -> str:
    """The kind of a local connection's source ("bigcommerce" when the document names none)."""
    return endpoint_kind(connection, "source", path)


def endpoint_kind(connection: str, side: Side, path: Path = LOCAL_CONNECTIONS) -> str:
    """The kind of a local connection's side ("bigcommerce" when the document names none)."""
    return str(_local_connection(connection, path)[side].get("kind", "bigcommerce"))


def is_two_way(connection: str, path: Path = LOCAL_CONNECTIONS) -> bool:
    return _local_connection(connection, path).get("direction") == "two-way"


def default_scope(kind: str) -> str:
    return "product.updated" if kind in ("pixlpay", "medusa") else "store/product/updated"


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


def medusa_notification(
    event_type: str, product_id: str, *, created_at: int, external_id: str | None = None
) -> dict[str, Any]:
    """Our Medusa subscriber's delivery (the simulator's forwarder builds the same body), sent when the
    product was last updated; times are ISO-8601 UTC with milliseconds, as JavaScript's toISOString."""
    at = datetime.fromtimestamp(created_at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    product = {"id": product_id, "external_id": external_id, "updated_at": at}
    return forwarded_body(event_type, product, at)


def webhook_event(
    connection: str,
    scope: str,
    entity_id: int | str,
    *,
    side: Side = "source",
    secret: str | None = None,
    timestamp: int | None = None,
    delivery_id: str | None = None,
    product_id: int | None = None,
    external_id: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API v2 event for POST /webhooks/{connection}, as the connection's source sends it: a
    BigCommerce notification with a Standard Webhooks signature, or a Pixlpay event (`scope` is then its
    event type, e.g. product.updated) with `X-Pixlpay-Signature`. With side="destination", the event of
    POST /webhooks/{connection}/destination as a two-way connection's destination sends it: a BigCommerce
    notification, or our Medusa subscriber's body (`entity_id` a `prod_...` id), Standard Webhooks signed."""
    ts = int(time.time()) if timestamp is None else timestamp
    key = secret or local_signing_secret(connection, side=side)
    kind = endpoint_kind(connection, side)
    if kind == "medusa":
        body = json.dumps(
            medusa_notification(scope, str(entity_id), created_at=ts, external_id=external_id),
            separators=(",", ":"),  # the subscriber posts compact JSON
        ).encode()
        msg_id = delivery_id or f"msg_{uuid.uuid4().hex}"
        headers = {
            "content-type": "application/json",
            "user-agent": "catalog-sync-medusa-forwarder/1",
            **sign_standard_webhooks(key, msg_id, ts, body),
        }
    elif kind == "pixlpay":
        notification = pixlpay_notification(scope, int(entity_id), created_at=ts, delivery_id=delivery_id)
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
            bigcommerce_notification(scope, int(entity_id), created_at=ts, product_id=product_id)
        ).encode()
        msg_id = delivery_id or f"msg_{uuid.uuid4().hex}"
        headers = {
            "content-type": "application/json",
            "user-agent": "BigCommerce-Webhooks",
            **sign_standard_webhooks(key, msg_id, ts, body),
        }
    route, path = WEBHOOK_ROUTE, f"/webhooks/{connection}"
    if side == "destination":
        route, path = DESTINATION_WEBHOOK_ROUTE, f"{path}/destination"
    event = http_api_event("POST", path, route, {"connection": connection}, headers, body)
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
TWO_WAY_STORES, TWO_WAY_PIXLPAY = "store-c-and-d", "pixlpay-and-medusa"
# A Medusa product id (prod_ and a ULID), standing for the copy of Pixlpay product 1.
SAMPLE_MEDUSA_PRODUCT = "prod_01JF8Z3Q4V5W6X7Y8Z9A0B1C2D"


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
        "webhook_receiver/store_d_product_updated.json": webhook_event(
            TWO_WAY_STORES,
            "store/product/updated",
            FIRST_PRODUCT,
            side="destination",
            timestamp=ts,
            delivery_id="msg_sample_store_d_product_updated",
        ),
        "webhook_receiver/medusa_product_updated.json": webhook_event(
            TWO_WAY_PIXLPAY,
            "product.updated",
            SAMPLE_MEDUSA_PRODUCT,
            side="destination",
            external_id=f"pixlpay_{FIRST_PIXLPAY_PRODUCT}",
            timestamp=ts,
            delivery_id="msg_sample_medusa_product_updated",
        ),
        # Store C's product 101 goes to store D (its 101 too: both simulators number from 101), then store
        # D's webhook about it comes back (the destination names it by store D's id): the consumer merges.
        "sync_consumer/two_way_batch.json": sync_batch_event(
            [
                SyncRequest(
                    connection=TWO_WAY_STORES, entity_type="product", entity_id=FIRST_PRODUCT, origin="pull"
                ),
                SyncRequest(
                    connection=TWO_WAY_STORES,
                    entity_type="product",
                    entity_id=0,
                    side="destination",
                    dest_id=str(FIRST_PRODUCT),
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
