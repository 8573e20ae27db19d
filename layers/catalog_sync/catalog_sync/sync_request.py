"""The sync request that travels on the queue, in a module of its own: the webhook receiver builds it
and imports nothing else of the catalog models (cold start)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

EntityType = Literal["product", "category", "brand"]
Action = Literal["upsert", "delete"]
Origin = Literal["webhook", "pull", "full_sync", "replay", "sweeper", "manual"]
Side = Literal["source", "destination"]


class SyncRequest(BaseModel):
    """One queue message: 'entity X of connection C may have changed; bring it in sync'."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    connection: str
    entity_type: EntityType
    entity_id: int
    action: Action = "upsert"
    origin: Origin = "webhook"
    # Set for webhook-originated requests: the EventsTable key, marked processed after the sync.
    delivery_id: str | None = None
    # When the source says the change happened (a webhook's created_at), epoch ms: the lag metric's start.
    changed_at_ms: int | None = None
    # Two-way connections: the side that changed. A destination-side request names the entity by its
    # destination id (`dest_id`: Medusa ids are strings); `entity_id` is then 0.
    side: Side = "source"
    dest_id: str | None = None
    # How many times a consumer that lost the entity's lease to another worker queued this request
    # again (consumer.SyncBatch), instead of spending one of the message's receives before the DLQ.
    deferrals: int = 0
    # When the request was first queued (epoch seconds; SyncQueue stamps it, its deferred copies keep it):
    # a complete sync that took the entity's lease later has already done what it asks.
    queued_at: float | None = None

    @property
    def entity_key(self) -> tuple[str, str, int | str]:
        if self.side == "destination":
            return (self.connection, f"{self.entity_type}@destination", self.dest_id or "")
        return (self.connection, self.entity_type, self.entity_id)
