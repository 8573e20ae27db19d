"""Replay: re-enqueue what stored webhook events named, for a connection and a time range.

One request per entity (the newest event wins its action): the consumer fetches current state anyway,
so replaying ten notifications of one product is one sync. Requests keep their delivery id, so the
replayed events are marked processed again.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog_sync.jobs.common import Sender
from catalog_sync.store.events import EventRecord
from catalog_sync.sync_request import SyncRequest


def replay_requests(records: Iterable[EventRecord]) -> list[SyncRequest]:
    latest: dict[tuple[str, str, int], EventRecord] = {}
    for record in sorted(records, key=lambda r: (r.received_at_ms, r.delivery_id)):
        if record.entity_type is None or record.entity_id is None:
            continue
        latest[(record.connection, record.entity_type, record.entity_id)] = record
    return [
        SyncRequest(
            connection=r.connection,
            entity_type=r.entity_type,  # type: ignore[arg-type]
            entity_id=r.entity_id,  # type: ignore[arg-type]
            action=r.action or "upsert",  # type: ignore[arg-type]
            origin="replay",
            delivery_id=r.delivery_id,
        )
        for r in latest.values()
    ]


def replay(records: Iterable[EventRecord], queue: Sender) -> int:
    return queue.send_many(replay_requests(records))
