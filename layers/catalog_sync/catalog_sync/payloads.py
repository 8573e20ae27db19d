"""Webhook payload models per source, and their translation to a SyncRequest.

BigCommerce sends notifications (`{scope, store_id, data{type,id,...}, hash, created_at, producer}`),
never the entity itself: the consumer always fetches current state, so a payload only names what changed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from catalog_sync.models import Action, EntityType, SyncRequest


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class SkuRef(_Payload):
    product_id: Annotated[int, Field(ge=1)]
    variant_id: int | None = None


class BigCommerceData(_Payload):
    type: Annotated[str, Field(min_length=1, max_length=64)]
    id: Annotated[int, Field(ge=1)]
    sku: SkuRef | None = None


class BigCommerceWebhook(_Payload):
    scope: Annotated[str, Field(pattern=r"^store/[a-z_]+(/[a-z_]+){1,3}$", max_length=128)]
    store_id: Annotated[str, Field(min_length=1, max_length=64)]
    data: BigCommerceData
    hash: Annotated[str, Field(min_length=1, max_length=128)]
    created_at: Annotated[int, Field(ge=0)]
    producer: Annotated[str, Field(max_length=128)] = ""

    def target(self) -> tuple[EntityType, int, Action] | None:
        """Which entity this notification is about, or None for a scope we do not sync."""
        parts = self.scope.split("/")
        resource, verb = parts[1], parts[-1]
        action: Action = "delete" if verb == "deleted" else "upsert"
        if resource == "product":
            return ("product", self.data.id, action)
        if resource == "sku":
            # A variant change: resync its product (never delete the product for a deleted sku).
            product_id = self.data.sku.product_id if self.data.sku else None
            return ("product", product_id, "upsert") if product_id else None
        if resource == "category":
            return ("category", self.data.id, action)
        if resource == "brand":
            return ("brand", self.data.id, action)
        return None

    def to_request(self, connection: str, delivery_id: str) -> SyncRequest | None:
        target = self.target()
        if target is None:
            return None
        entity_type, entity_id, action = target
        return SyncRequest(
            connection=connection,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            origin="webhook",
            delivery_id=delivery_id,
        )
