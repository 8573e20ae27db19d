"""Webhook ingestion: verify, validate, store once, queue, and only then acknowledge.

Order matters: cheap envelope checks (content type, size) first, then the signature over the raw
bytes before any parsing; the event is durable in the events table before the provider hears 2xx.
A redelivery (same delivery id) of an event the consumer has seen is acknowledged without a second
message; one of an event still `received` is queued again, since the invocation that stored it may
have died before its send (a duplicate answer there would lose the event until the sweeper ran).
If the queue is down after the event is stored, the delivery is still acknowledged: the cleanup
sweeper re-enqueues events left in `received`, so nothing is lost and the provider does not pile
retries onto an outage. Only when
nothing could be stored does the provider get a 5xx (StorageUnavailable -> 503) and retry.

Delivery ids (the dedup key, a conditional put on (connection, delivery id)):
- Standard Webhooks: the signed `webhook-id` header (stable across the provider's retries);
- Shopify-style: `X-Shopify-Webhook-Id` when present;
- otherwise the payload's own id: BigCommerce `hash`, Pixlpay `id`;
- otherwise (a Pixlpay payload without `id`) nothing identifies the delivery, and it is not deduplicated:
  two edits of one product within a second make byte-identical bodies (`event` + a whole-second
  `timestamp`, or no timestamp at all), so a body hash would drop the second edit, or every later one.
  Such a delivery is stored as `sha256:<hex of the raw body>:<received ms>:<random>` and always queued;
  a provider's retry of it costs one more sync, which writes nothing (the engine's hash is unchanged).
  The unsigned `X-Pixlpay-Delivery-Id` header is deliberately not used either: anyone replaying a
  captured body could vary it.

Replays: a payload whose own `created_at` is older than the dedup window (the events' retention) is
refused, because its first delivery may already have expired from the table.

No Lambda or boto3 types here; the events table and the queue are passed in (EventSink, RequestSender).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import ValidationError

from catalog_sync import signatures
from catalog_sync.errors import (
    DeliveryTooOld,
    NotTwoWay,
    PayloadInvalid,
    PayloadTooLarge,
    StorageUnavailable,
    UnsupportedMediaType,
)
from catalog_sync.payloads import Notification, medusa_notification, model_for, summary_json, to_request

if TYPE_CHECKING:
    from catalog_sync.connections import Connection
    from catalog_sync.store.events import EventRecord
    from catalog_sync.sync_request import Side, SyncRequest

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # BigCommerce and Pixlpay notifications are < 2 KB; this bounds all work
MAX_JSON_DEPTH = 16
# base64 of MAX_BODY_BYTES, so an oversized encoded body is refused before it is decoded.
_MAX_BASE64_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4


class EventSink(Protocol):
    def put_new_or_existing(self, record: EventRecord) -> EventRecord | None: ...


class RequestSender(Protocol):
    def send(self, request: SyncRequest) -> None: ...


@dataclass(frozen=True)
class Delivery:
    connection: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    # Which system sent it: a two-way connection's destination posts to /webhooks/{connection}/destination.
    side: Side = "source"


@dataclass(frozen=True)
class Receipt:
    status: Literal["accepted", "duplicate", "ignored"]
    delivery_id: str
    queued: bool = False


def decode_body(body: str | None, *, is_base64: bool) -> bytes:
    """The exact bytes the provider signed: API Gateway base64-encodes non-text bodies."""
    text = body or ""
    if is_base64:
        if len(text) > _MAX_BASE64_CHARS:
            raise PayloadTooLarge(f"body exceeds {MAX_BODY_BYTES} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadInvalid("body is not valid base64") from None
    if len(text) > MAX_BODY_BYTES:  # every character is at least one byte
        raise PayloadTooLarge(f"body exceeds {MAX_BODY_BYTES} bytes")
    # surrogatepass: a stray surrogate cannot crash the encoder; it fails the UTF-8 check later.
    return text.encode("utf-8", "surrogatepass")


def receive(
    delivery: Delivery,
    connection: Connection,
    *,
    events: EventSink,
    queue: RequestSender,
    now_s: float,
    max_age_s: float,
) -> Receipt:
    _check_envelope(delivery)
    if delivery.side == "destination" and not connection.two_way:
        raise NotTwoWay(f"connection '{connection.name}' is one-way: its destination sends no webhooks")
    signing = connection.signing_of(delivery.side)
    header_id = signatures.verify(signing, delivery.headers, delivery.body, now=now_s)
    endpoint = connection.source if delivery.side == "source" else connection.destination
    notification = parse(endpoint.kind, delivery.body)
    created_at = notification.created_at_s
    if created_at is not None and now_s - created_at > max_age_s:
        # Older than our dedup horizon: we could no longer tell a replay from a first delivery.
        raise DeliveryTooOld(
            f"delivery created {int(now_s - created_at)} s ago is past the {int(max_age_s)} s replay window"
        )
    delivery_id = header_id or notification.payload_delivery_id or unique_delivery_id(delivery.body, now_s)
    if delivery.side == "destination":  # the two sides' ids are two namespaces
        delivery_id = f"destination:{delivery_id}"
    request = to_request(notification, connection.name, delivery_id, side=delivery.side)
    if request is None or not connection.syncs_scope(notification.topic):
        _store(events, _record(delivery_id, connection.name, notification, None, now_s, status="ignored"))
        return Receipt("ignored", delivery_id)
    record = _record(delivery_id, connection.name, notification, request, now_s, status="received")
    stored = _store(events, record)
    if stored is not None and stored.status != "received":
        return Receipt("duplicate", delivery_id)  # the consumer has it (processed, or failed and retrying)
    # A new event, or a redelivery of one nothing has consumed yet: the invocation that stored it may
    # have died before its send (a timeout, a crash), which is why the provider retries. Queue it
    # (again): a second message for an event already queued costs one idempotent sync; none loses it.
    status: Literal["accepted", "duplicate"] = "accepted" if stored is None else "duplicate"
    try:
        queue.send(request)
    except Exception as exc:  # stored: the sweeper queues it later, so this is not the provider's problem
        logger.warning(
            "queue send failed after store; left for the sweeper",
            extra={"delivery_id": delivery_id, "error": type(exc).__name__},
        )
        return Receipt(status, delivery_id, queued=False)
    return Receipt(status, delivery_id, queued=True)


def unique_delivery_id(body: bytes, now_s: float) -> str:
    """An id for a delivery that names none: traceable to its body, never equal to another's."""
    return f"sha256:{hashlib.sha256(body).hexdigest()}:{int(now_s * 1000)}:{secrets.token_hex(4)}"


def parse(source_kind: str, body: bytes) -> Notification:
    """The payload as the model of the kind of system that sent it; PayloadInvalid names what is wrong."""
    raw = _decode_json(body)
    if source_kind == "medusa":  # our subscriber's deliveries (a two-way connection's Medusa side)
        return medusa_notification(body)
    model = model_for(source_kind)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise PayloadInvalid(f"payload does not match the {source_kind} webhook schema: {problems}") from None


def _store(events: EventSink, record: EventRecord) -> EventRecord | None:
    """None when stored now; else the event already stored under the delivery id."""
    try:
        return events.put_new_or_existing(record)
    except Exception as exc:  # nothing is stored: the provider must retry, so answer 503
        raise StorageUnavailable(f"event store unavailable: {type(exc).__name__}") from exc


def _check_envelope(delivery: Delivery) -> None:
    content_type = delivery.headers.get("content-type", "")
    if not isinstance(content_type, str) or content_type.split(";")[0].strip().lower() != "application/json":
        shown = content_type[:80] if isinstance(content_type, str) else ""
        raise UnsupportedMediaType(f"content-type must be application/json, got '{shown}'")
    if len(delivery.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body of {len(delivery.body)} bytes exceeds {MAX_BODY_BYTES}")


def _reject_constant(name: str) -> object:
    raise PayloadInvalid(f"body is not valid JSON: {name} is not a JSON number")


def _decode_json(body: bytes) -> object:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadInvalid("body is not UTF-8") from None
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise PayloadInvalid(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadInvalid(f"body is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError:  # e.g. an integer longer than Python's int-string conversion limit
        raise PayloadInvalid("body is not valid JSON: a number is out of range") from None


def _nesting_depth(text: str) -> int:
    """Bracket depth outside strings: refuses pathological nesting before json.loads recurses."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _record(
    delivery_id: str,
    connection: str,
    notification: Notification,
    request: SyncRequest | None,
    now_s: float,
    *,
    status: Literal["received", "ignored"],
) -> EventRecord:
    # Imported here: the events store pulls in botocore, which the handler defers to its first call.
    from catalog_sync.store.events import EventRecord

    return EventRecord(
        connection=connection,
        delivery_id=delivery_id,
        status=status,
        scope=notification.topic,
        received_at_ms=int(now_s * 1000),
        entity_type=request.entity_type if request else None,
        entity_id=request.entity_id if request else None,
        action=request.action if request else None,
        payload=summary_json(notification),
    )
