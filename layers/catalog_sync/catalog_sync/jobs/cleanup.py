"""Event cleanup (seed 003: "collect and remove processed event identifiers every 2 hours").

The TTL (`expires_at`) expires processed events, but DynamoDB deletes them up to days late, so the
sweeper also deletes processed and ignored events past retention - each with a conditional delete on
its status, so an event that changed status meanwhile is never removed. Events that are not processed
(received, failed) are NEVER deleted here. Events stuck in `received` (stored, queued never or lost,
not consumed within `stuck_after`) are re-enqueued with their delivery id, so the consumer marks them
processed; failed events that used up their attempts are reported (counted, first ids listed) for the
operator, who can replay or redrive them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from catalog_sync.jobs.common import Sender
from catalog_sync.store.events import EventRecord
from catalog_sync.sync_request import SyncRequest

REPORTED_IDS = 20


class EventSweeper(Protocol):
    def by_status(self, status: Any, *, received_before_ms: int) -> Iterable[EventRecord]: ...

    def delete_if_status(self, connection: str, delivery_id: str, status: Any) -> bool: ...


@dataclass
class CleanupReport:
    expired_deleted: int = 0
    requeued: int = 0
    failed: int = 0
    failed_exhausted: int = 0
    exhausted_ids: list[str] = field(default_factory=list)
    complete: bool = True


def cleanup_events(
    events: EventSweeper,
    queue: Sender,
    *,
    now_s: float,
    retention_s: int,
    stuck_after_s: int,
    time_left_s: Callable[[], float],
    max_attempts: int = 5,
    max_items: int = 5_000,
) -> CleanupReport:
    report = CleanupReport()
    expired_before = int((now_s - retention_s) * 1000)
    for status in ("processed", "ignored"):
        for record in events.by_status(status, received_before_ms=expired_before):
            if time_left_s() < 5 or report.expired_deleted >= max_items:
                report.complete = False
                break
            report.expired_deleted += events.delete_if_status(record.connection, record.delivery_id, status)

    stuck: list[SyncRequest] = []
    for record in events.by_status("received", received_before_ms=int((now_s - stuck_after_s) * 1000)):
        if len(stuck) >= max_items or time_left_s() < 5:
            report.complete = False
            break
        if record.entity_type is not None and record.entity_id is not None:
            stuck.append(
                SyncRequest(
                    connection=record.connection,
                    entity_type=record.entity_type,  # type: ignore[arg-type]
                    entity_id=record.entity_id,
                    action=record.action or "upsert",  # type: ignore[arg-type]
                    origin="sweeper",
                    delivery_id=record.delivery_id,
                )
            )
    report.requeued = queue.send_many(stuck)

    for record in events.by_status("failed", received_before_ms=int(now_s * 1000)):
        report.failed += 1
        if record.attempts >= max_attempts:
            report.failed_exhausted += 1
            if len(report.exhausted_ids) < REPORTED_IDS:
                report.exhausted_ids.append(f"{record.connection}/{record.delivery_id}")
    return report
