"""Scheduled jobs: hourly pull (cursor mode), full sync, event cleanup. They only enqueue work:
the consumer's `sync one entity` does every write, so these jobs cannot double-apply anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.models import Origin, SyncRequest
from catalog_sync.store.events import EventRecord

PULL_CHECKPOINT = "pull"
FULL_SYNC_CHECKPOINT = "full_sync"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Checkpoints(Protocol):
    def get_checkpoint(self, connection: str, name: str) -> dict[str, Any] | None: ...

    def put_checkpoint(self, connection: str, name: str, data: dict[str, Any]) -> None: ...


class Sender(Protocol):
    def send_many(self, requests: Iterable[SyncRequest]) -> int: ...


@dataclass
class JobReport:
    connection: str
    pages: int = 0
    seen: int = 0
    enqueued: int = 0
    complete: bool = True
    checkpoint: dict[str, Any] = field(default_factory=dict)


def _requests(connection: str, ids: Iterable[int], origin: Origin) -> list[SyncRequest]:
    return [
        SyncRequest(connection=connection, entity_type="product", entity_id=i, origin=origin) for i in ids
    ]


def pull_changes(
    connection: str,
    source: BigCommerceClient,
    queue: Sender,
    checkpoints: Checkpoints,
    *,
    overlap_s: int,
    now: datetime,
    time_left_s: Callable[[], float],
) -> JobReport:
    """Cursor mode: products modified since the last checkpoint (minus an overlap window for clock skew
    and late commits at the source), sorted by date_modified; checkpoint after every page."""
    saved = checkpoints.get_checkpoint(connection, PULL_CHECKPOINT) or {}
    cursor = datetime.fromisoformat(saved["cursor"]) if "cursor" in saved else EPOCH
    since = max(EPOCH, cursor - timedelta(seconds=overlap_s))
    report = JobReport(connection)
    page, newest = 1, cursor
    while True:
        if time_left_s() < 10:
            report.complete = False
            break
        result = source.list_products(page=page, modified_since=since, sort="date_modified", include=None)
        report.pages += 1
        report.seen += len(result.items)
        report.enqueued += queue.send_many(
            _requests(connection, (int(p["id"]) for p in result.items), "pull")
        )
        for item in result.items:
            newest = max(newest, datetime.fromisoformat(item["date_modified"]))
        if result.is_last or not result.items:
            break
        page += 1
    if report.complete:
        # Only a finished pass moves the cursor: an interrupted one is redone from the same point.
        report.checkpoint = {"cursor": newest.isoformat(), "run_at": now.isoformat()}
        checkpoints.put_checkpoint(connection, PULL_CHECKPOINT, report.checkpoint)
    return report


def full_sync(
    connection: str,
    source: BigCommerceClient,
    queue: Sender,
    checkpoints: Checkpoints,
    *,
    page_size: int,
    now: datetime,
    time_left_s: Callable[[], float],
) -> JobReport:
    """Enqueue every product, page by page, resuming from the saved page if the last run ran short."""
    saved = checkpoints.get_checkpoint(connection, FULL_SYNC_CHECKPOINT) or {}
    page = int(saved.get("next_page", 1)) if saved.get("state") == "running" else 1
    report = JobReport(connection)
    while True:
        if time_left_s() < 10:
            report.complete = False
            report.checkpoint = {"state": "running", "next_page": page, "updated_at": now.isoformat()}
            checkpoints.put_checkpoint(connection, FULL_SYNC_CHECKPOINT, report.checkpoint)
            return report
        result = source.list_products(page=page, limit=page_size, sort="id", include=None)
        report.pages += 1
        report.seen += len(result.items)
        report.enqueued += queue.send_many(
            _requests(connection, (int(p["id"]) for p in result.items), "full_sync")
        )
        if result.is_last or not result.items:
            break
        page += 1
        checkpoints.put_checkpoint(connection, FULL_SYNC_CHECKPOINT, {"state": "running", "next_page": page})
    report.checkpoint = {"state": "done", "finished_at": now.isoformat(), "products": report.seen}
    checkpoints.put_checkpoint(connection, FULL_SYNC_CHECKPOINT, report.checkpoint)
    return report


class EventSweeper(Protocol):
    def by_status(self, status: Any, *, received_before_ms: int) -> Iterable[EventRecord]: ...

    def delete_if_status(self, connection: str, delivery_id: str, status: Any) -> bool: ...


@dataclass
class CleanupReport:
    expired_deleted: int = 0
    requeued: int = 0
    failed: int = 0
    complete: bool = True


def cleanup_events(
    events: EventSweeper,
    queue: Sender,
    *,
    now_s: float,
    retention_s: int,
    stuck_after_s: int,
    time_left_s: Callable[[], float],
    max_items: int = 5_000,
) -> CleanupReport:
    """Delete processed and ignored events past retention (TTL can lag by days), re-enqueue events
    stuck in `received` (stored, never consumed), count failed ones. Never deletes unprocessed events."""
    report = CleanupReport()
    expired_before = int((now_s - retention_s) * 1000)
    for status in ("processed", "ignored"):
        for record in events.by_status(status, received_before_ms=expired_before):
            if time_left_s() < 5 or report.expired_deleted >= max_items:
                report.complete = False
                break
            report.expired_deleted += events.delete_if_status(record.connection, record.delivery_id, status)
    stuck = [
        r
        for r in events.by_status("received", received_before_ms=int((now_s - stuck_after_s) * 1000))
        if r.attempts == 0 and r.entity_type is not None and r.entity_id is not None
    ][:max_items]
    report.requeued = queue.send_many(
        SyncRequest(
            connection=r.connection,
            entity_type=r.entity_type,  # type: ignore[arg-type]
            entity_id=r.entity_id,  # type: ignore[arg-type]
            action=r.action or "upsert",  # type: ignore[arg-type]
            origin="sweeper",
            delivery_id=r.delivery_id,
        )
        for r in stuck
    )
    report.failed = sum(1 for _ in events.by_status("failed", received_before_ms=int(now_s * 1000)))
    return report


def time_left_from(deadline_monotonic: float) -> Callable[[], float]:
    return lambda: deadline_monotonic - time.monotonic()
