"""Webhook payload models per source kind, and their translation to a SyncRequest.

A webhook is a notification: it names what changed, never carries the entity (the consumer always
fetches current state). Each source has one model with the same small surface (`Notification`):
`topic` (the scope or event type), `payload_delivery_id`, `created_at_s`, `target()` and `summary()`.

Unknown topics must still parse, so the provider gets a 200 and stops retrying: the envelope is
validated loosely and `data` strictly only for the topics we sync.

BigCommerce (`{scope, store_id, data{type,id,...}, hash, created_at, producer}`):
- product created|updated|deleted                 -> product `data.id`
- product inventory updated / inventory order updated -> resync product `data.id`
- sku created|updated|deleted (`data.sku.product_id`) -> resync the product (a deleted variant
  changes its product; it never deletes the product)
- sku inventory updated / inventory order updated (`data.inventory.product_id`) -> resync product
- category created|updated|deleted               -> category `data.id`
- brand created|updated|deleted                  -> brand `data.id`

Pixlpay (`{id?, event_type | event, created_at | timestamp?, data{product_id | id}}`, docs.pixlpay.net
and seed 000): product.created|updated|deleted -> product `data.product_id` (or `data.id`).

Medusa has no webhooks; our subscriber (integrations/medusa-brand) sends `{type, timestamp, data{id,
external_id, updated_at}}` signed per Standard Webhooks: `parse_medusa_product_event` reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol, overload

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from catalog_sync.errors import PayloadInvalid
from catalog_sync.sync_request import Action, EntityType, Side, SyncRequest

Target = tuple[EntityType, int | str, Action]  # Medusa ids are strings

_Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
_Text = Annotated[str, Field(min_length=1, max_length=128)]


class Notification(Protocol):
    """What the receiver needs from any source's payload model."""

    @property
    def topic(self) -> str: ...

    @property
    def payload_delivery_id(self) -> str | None: ...

    @property
    def created_at_s(self) -> float | None: ...

    def target(self) -> Target | None: ...

    def summary(self) -> dict[str, Any]: ...


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True)


# --------------------------------------------------------------------------------------------------
# BigCommerce
# --------------------------------------------------------------------------------------------------


class SkuRef(_Payload):
    product_id: _Id
    variant_id: int | None = None


class InventoryRef(_Payload):
    product_id: _Id
    variant_id: int | None = None
    method: str | None = None
    value: int | None = None


class BigCommerceData(_Payload):
    type: Annotated[str, Field(min_length=1, max_length=64)]
    id: _Id
    sku: SkuRef | None = None
    inventory: InventoryRef | None = None


_VERBS = ("created", "updated", "deleted")
_ENTITY_SCOPES: dict[str, EntityType] = {
    **{f"store/product/{v}": "product" for v in _VERBS},
    **{f"store/category/{v}": "category" for v in _VERBS},
    **{f"store/brand/{v}": "brand" for v in _VERBS},
}
_PRODUCT_INVENTORY_SCOPES = frozenset(
    {"store/product/inventory/updated", "store/product/inventory/order/updated"}
)
_SKU_SCOPES = frozenset({f"store/sku/{v}" for v in _VERBS})
_SKU_INVENTORY_SCOPES = frozenset({"store/sku/inventory/updated", "store/sku/inventory/order/updated"})
# Every scope whose `data` we read; any other well-formed scope is acknowledged and ignored.
BIGCOMMERCE_SYNCED_SCOPES = frozenset(
    {*_ENTITY_SCOPES, *_PRODUCT_INVENTORY_SCOPES, *_SKU_SCOPES, *_SKU_INVENTORY_SCOPES}
)


class BigCommerceWebhook(_Payload):
    # BigCommerce scopes include camelCase segments (store/cart/lineItem/added): all are acknowledged.
    scope: Annotated[str, Field(pattern=r"^store/[A-Za-z_]+(/[A-Za-z_]+){1,4}$", max_length=128)]
    store_id: Annotated[str, Field(min_length=1, max_length=64)]
    data: dict[str, Any]
    hash: _Text
    created_at: Annotated[int, Field(ge=0, le=2**53)]
    producer: Annotated[str, Field(max_length=128)] = ""
    _entity: BigCommerceData | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _data_of_synced_scopes(self) -> BigCommerceWebhook:
        if self.scope in BIGCOMMERCE_SYNCED_SCOPES:
            entity = _validate_data(BigCommerceData, self.data, self.scope)
            if self.scope in _SKU_SCOPES and entity.sku is None:
                raise ValueError("data.sku.product_id is required for store/sku/* scopes")
            if self.scope in _SKU_INVENTORY_SCOPES and entity.inventory is None:
                raise ValueError("data.inventory.product_id is required for sku inventory scopes")
            self._entity = entity
        return self

    @property
    def topic(self) -> str:
        return self.scope

    @property
    def payload_delivery_id(self) -> str:
        return self.hash

    @property
    def created_at_s(self) -> float:
        return float(self.created_at)

    def target(self) -> Target | None:
        """Which entity this notification is about, or None for a scope we do not sync."""
        scope = self.scope
        data = self._entity
        if scope not in BIGCOMMERCE_SYNCED_SCOPES or data is None:
            return None
        if scope in _ENTITY_SCOPES:
            return (_ENTITY_SCOPES[scope], data.id, "delete" if scope.endswith("/deleted") else "upsert")
        if scope in _PRODUCT_INVENTORY_SCOPES:
            return ("product", data.inventory.product_id if data.inventory else data.id, "upsert")
        if scope in _SKU_SCOPES and data.sku is not None:
            return ("product", data.sku.product_id, "upsert")
        if scope in _SKU_INVENTORY_SCOPES and data.inventory is not None:
            return ("product", data.inventory.product_id, "upsert")
        return None  # pragma: no cover - the validator guarantees the refs above

    def summary(self) -> dict[str, Any]:
        data = {k: v for k, v in self.data.items() if k in ("type", "id") and _is_small_scalar(v)}
        return {
            "scope": self.scope,
            "store_id": self.store_id,
            "hash": self.hash,
            "created_at": self.created_at,
            "data": data,
        }

    def to_request(self, connection: str, delivery_id: str) -> SyncRequest | None:
        return to_request(self, connection, delivery_id)


# --------------------------------------------------------------------------------------------------
# Pixlpay
# --------------------------------------------------------------------------------------------------

_PIXLPAY_ACTIONS: dict[str, Action] = {
    "product.created": "upsert",
    "product.updated": "upsert",
    "product.deleted": "delete",
}


class PixlpayProductData(_Payload):
    product_id: _Id | None = None
    id: _Id | None = None

    @model_validator(mode="after")
    def _has_an_id(self) -> PixlpayProductData:
        if self.product_id is None and self.id is None:
            raise ValueError("data.product_id is required for product events")
        return self

    @property
    def entity_id(self) -> int:
        return self.product_id if self.product_id is not None else int(self.id or 0)


class PixlpayWebhook(_Payload):
    """Pixlpay's docs show both `event_type` + `created_at` and `event` + `timestamp`; either is read."""

    id: _Text | None = None
    event_type: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    event: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    created_at: datetime | None = None
    timestamp: datetime | None = None
    data: dict[str, Any]
    _product: PixlpayProductData | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _named_event(self) -> PixlpayWebhook:
        if self.event_type is None and self.event is None:
            raise ValueError("event_type (or event) is required")
        if self.topic in _PIXLPAY_ACTIONS:
            self._product = _validate_data(PixlpayProductData, self.data, self.topic)
        return self

    @property
    def topic(self) -> str:
        return self.event_type or self.event or ""

    @property
    def payload_delivery_id(self) -> str | None:
        return self.id

    @property
    def created_at_s(self) -> float | None:
        moment = self.created_at or self.timestamp
        if moment is None:
            return None
        if moment.tzinfo is None:  # Pixlpay sends UTC ("...Z"); a naive time is read as UTC too
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    def target(self) -> Target | None:
        action = _PIXLPAY_ACTIONS.get(self.topic)
        if action is None or self._product is None:
            return None
        return ("product", self._product.entity_id, action)

    def summary(self) -> dict[str, Any]:
        data = {k: v for k, v in self.data.items() if k in ("product_id", "id") and _is_small_scalar(v)}
        return {"id": self.id, "event_type": self.topic, "created_at": self.created_at_s, "data": data}


# --------------------------------------------------------------------------------------------------
# Choosing a model and building the request.
# --------------------------------------------------------------------------------------------------

MODELS: dict[str, type[BigCommerceWebhook] | type[PixlpayWebhook]] = {
    "bigcommerce": BigCommerceWebhook,
    "pixlpay": PixlpayWebhook,
}


def model_for(source_kind: str) -> type[BigCommerceWebhook] | type[PixlpayWebhook]:
    """The payload model of a connection's source kind (KeyError for a kind that sends no webhooks)."""
    return MODELS[source_kind]


def to_request(
    notification: Notification, connection: str, delivery_id: str, *, side: Side = "source"
) -> SyncRequest | None:
    """The queue message for a notification; one from a two-way connection's destination names its
    entity by the destination's id."""
    target = notification.target()
    if target is None:
        return None
    entity_type, entity_id, action = target
    created_at = notification.created_at_s
    return SyncRequest(
        connection=connection,
        entity_type=entity_type,
        entity_id=int(entity_id) if side == "source" else 0,
        action=action,
        origin="webhook",
        delivery_id=delivery_id,
        changed_at_ms=None if created_at is None else int(created_at * 1000),
        side=side,
        dest_id=str(entity_id) if side == "destination" else None,
    )


def summary_json(notification: Notification) -> str:
    """The small, bounded record kept in the events table (never the raw request)."""
    return json.dumps(notification.summary(), separators=(",", ":"), default=str)


def _validate_data[M: BaseModel](model: type[M], data: dict[str, Any], topic: str) -> M:
    """`data` as `model`; a mismatch is a ValueError naming fields and problems, never the input."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"data.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False)[:3]
        )
        raise ValueError(f"{topic}: {problems}") from None


def _is_small_scalar(value: object) -> bool:
    return isinstance(value, int | float | bool) or (isinstance(value, str) and len(value) <= 128)


# --------------------------------------------------------------------------------------------------
# Medusa (our subscriber's deliveries: integrations/medusa-brand/src/subscribers/catalog-sync-webhook.ts)
# --------------------------------------------------------------------------------------------------

MedusaAction = Literal["created", "updated", "deleted"]
MEDUSA_PRODUCT_EVENTS: dict[str, MedusaAction] = {
    "product.created": "created",
    "product.updated": "updated",
    "product.deleted": "deleted",
}


class MedusaEventInvalid(PayloadInvalid):
    """A Medusa delivery body that is not the subscriber's JSON shape (the message names the field)."""

    code = "invalid_medusa_event"


class MedusaEventUnknown(MedusaEventInvalid):
    """A well-formed delivery of an event type catalog-sync does not sync (acknowledge it, sync nothing)."""

    code = "unknown_medusa_event"


@dataclass(frozen=True)
class MedusaProductEvent:
    action: MedusaAction
    product_id: str  # prod_...
    external_id: str | None  # e.g. pixlpay_12; None for a product Medusa made itself
    updated_at: datetime | None  # the product's updated_at when the event was sent (None once deleted)
    timestamp: datetime  # when the subscriber sent it


class _MedusaData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    external_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    updated_at: Annotated[datetime, Field(strict=False)] | None = None


class _MedusaBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    type: Annotated[str, Field(min_length=1, max_length=128)]
    timestamp: Annotated[datetime, Field(strict=False)]
    data: _MedusaData


def parse_medusa_product_event(body: bytes | str) -> MedusaProductEvent:
    """The subscriber's delivery `{"type": "product.updated", "timestamp": "<ISO>", "data": {"id": "prod_…",
    "external_id": "pixlpay_12" | null, "updated_at": "<ISO>" | null}}` as a MedusaProductEvent.

    Raises MedusaEventInvalid (not JSON, not an object, a missing or mistyped field: the message names the
    field, never echoes the input) or MedusaEventUnknown (a well-formed body of another event type).
    Times without a zone are read as UTC.
    """
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MedusaEventInvalid("Medusa event: the body is not JSON") from None
    if not isinstance(raw, dict):
        raise MedusaEventInvalid("Medusa event: the body must be a JSON object")
    try:
        parsed = _MedusaBody.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False)[:3]
        )
        raise MedusaEventInvalid(f"Medusa event: {problems}") from None
    action = MEDUSA_PRODUCT_EVENTS.get(parsed.type)
    if action is None:
        raise MedusaEventUnknown(f"Medusa event: type {parsed.type[:64]!r} is not a product event we sync")
    return MedusaProductEvent(
        action=action,
        product_id=parsed.data.id,
        external_id=parsed.data.external_id,
        updated_at=_utc(parsed.data.updated_at),
        timestamp=_utc(parsed.timestamp),
    )


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: None) -> None: ...
def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MedusaNotification:
    """A Medusa subscriber delivery as the receiver's Notification (its delivery id is the signed
    `webhook-id` header). An event type we do not sync is acknowledged and ignored (no target)."""

    type: str
    event: MedusaProductEvent | None

    @property
    def topic(self) -> str:
        return self.type

    @property
    def payload_delivery_id(self) -> str | None:
        return None

    @property
    def created_at_s(self) -> float | None:
        return self.event.timestamp.timestamp() if self.event else None

    def target(self) -> Target | None:
        if self.event is None:
            return None
        return ("product", self.event.product_id, "delete" if self.event.action == "deleted" else "upsert")

    def summary(self) -> dict[str, Any]:
        if self.event is None:
            return {"type": self.type[:64]}
        return {"type": self.type, "id": self.event.product_id, "external_id": self.event.external_id}


def medusa_notification(body: bytes) -> MedusaNotification:
    """Our Medusa subscriber's delivery; MedusaEventInvalid (a 400 naming the field) if malformed."""
    try:
        event = parse_medusa_product_event(body)
    except MedusaEventUnknown:
        return MedusaNotification(str(json.loads(body).get("type", ""))[:128], None)
    return MedusaNotification(f"product.{event.action}", event)
