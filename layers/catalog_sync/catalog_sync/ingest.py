"""Webhook ingestion: verify, validate, store once, queue, and only then acknowledge.

Order matters: signature over the raw bytes before any parsing; the event is durable in the events
table before the provider hears 2xx. A redelivery (same delivery id) is acknowledged without a second
message. If the queue is down after the event is stored, the delivery is still acknowledged: the
cleanup sweeper re-enqueues events left in `received`, so nothing is lost and the provider does not
pile retries onto an outage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import ValidationError

from catalog_sync import signatures
from catalog_sync.connections import Connection
from catalog_sync.errors import PayloadInvalid, PayloadTooLarge, StorageUnavailable, UnsupportedMediaType
from catalog_sync.models import SyncRequest
from catalog_sync.payloads import BigCommerceWebhook
from catalog_sync.store.events import EventRecord

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # BigCommerce notifications are < 1 KB; this bounds parsing work
MAX_JSON_DEPTH = 16


class EventSink(Protocol):
    def put_new(self, record: EventRecord) -> bool: ...


class RequestSender(Protocol):
    def send(self, request: SyncRequest) -> None: ...


@dataclass(frozen=True)
class Delivery:
    connection: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class Receipt:
    status: Literal["accepted", "duplicate", "ignored"]
    delivery_id: str
    queued: bool = False


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
    header_id = signatures.verify(connection.signing, delivery.headers, delivery.body, now=now_s)
    payload = _parse(delivery.body)
    if now_s - payload.created_at > max_age_s:
        # Older than our dedup horizon: we could no longer tell a replay from a first delivery.
        raise PayloadInvalid(
            f"delivery created {int(now_s - payload.created_at)} s ago is past the replay window"
        )
    delivery_id = header_id or payload.hash
    request = payload.to_request(connection.name, delivery_id)
    if request is None or not connection.syncs_scope(payload.scope):
        _store(events, _record(delivery_id, connection.name, payload, None, now_s, status="ignored"))
        return Receipt("ignored", delivery_id)
    if not _store(events, _record(delivery_id, connection.name, payload, request, now_s, status="received")):
        return Receipt("duplicate", delivery_id)
    try:
        queue.send(request)
    except (
        Exception
    ):  # the event is stored: the sweeper queues it later, so this is not the provider's problem
        logger.warning(
            "queue send failed after store; left for the sweeper", extra={"delivery_id": delivery_id}
        )
        return Receipt("accepted", delivery_id, queued=False)
    return Receipt("accepted", delivery_id, queued=True)


def _store(events: EventSink, record: EventRecord) -> bool:
    try:
        return events.put_new(record)
    except Exception as exc:  # nothing is stored: the provider must retry, so answer 503
        raise StorageUnavailable(f"event store unavailable: {type(exc).__name__}") from exc


def _check_envelope(delivery: Delivery) -> None:
    content_type = delivery.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(f"content-type must be application/json, got '{content_type[:80]}'")
    if len(delivery.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body of {len(delivery.body)} bytes exceeds {MAX_BODY_BYTES}")


def _parse(body: bytes) -> BigCommerceWebhook:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadInvalid("body is not UTF-8") from None
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise PayloadInvalid(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadInvalid(f"body is not valid JSON: {exc.msg} at position {exc.pos}") from None
    try:
        return BigCommerceWebhook.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise PayloadInvalid(f"payload does not match the webhook schema: {problems}") from None


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
    payload: BigCommerceWebhook,
    request: SyncRequest | None,
    now_s: float,
    *,
    status: Literal["received", "ignored"],
) -> EventRecord:
    return EventRecord(
        connection=connection,
        delivery_id=delivery_id,
        status=status,
        scope=payload.scope,
        received_at_ms=int(now_s * 1000),
        entity_type=request.entity_type if request else None,
        entity_id=request.entity_id if request else None,
        action=request.action if request else None,
        payload=payload.model_dump_json(),
    )
