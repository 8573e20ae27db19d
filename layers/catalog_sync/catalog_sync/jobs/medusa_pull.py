"""Hourly pull of a two-way connection's Medusa side, cursor mode on `updated_at` (seed 001): the safety net
under our Medusa subscriber's webhooks. Each page's products become destination-side sync requests; the
cursor (connectors/medusa_changes.py reads ties correctly) is checkpointed after every page, so a pull cut
short resumes where it stopped. A new pass starts `overlap` seconds before the last cursor, for products
whose write committed with an earlier time; re-enqueuing them costs a read, never a write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from catalog_sync.connectors.medusa_changes import ChangedProducts, UpdatedAtCursor
from catalog_sync.jobs.common import Checkpoints, Sender, sync_requests
from catalog_sync.jobs.pull import DESTINATION_PULL_CHECKPOINT, JobReport


class ChangedProductsSource(Protocol):
    def changed_products(self, since: UpdatedAtCursor | None, *, limit: int = 50) -> ChangedProducts: ...


def pull_medusa_changes(
    connection: str,
    medusa: ChangedProductsSource,
    queue: Sender,
    checkpoints: Checkpoints,
    *,
    page_size: int = 50,
    overlap_s: int,
    now: datetime,
    time_left_s: Callable[[], float],
    min_time_s: float = 10.0,
    max_pages: int = 100_000,
) -> JobReport:
    saved = checkpoints.get_checkpoint(connection, DESTINATION_PULL_CHECKPOINT) or {}
    cursor = _cursor(saved.get("cursor"))
    if saved.get("state") != "running" and cursor is not None:
        cursor = UpdatedAtCursor(cursor.updated_at - timedelta(seconds=overlap_s))
    report = JobReport(connection, mode="cursor@destination")
    report.complete = False
    for _ in range(max_pages):
        if time_left_s() < min_time_s:
            break
        page = medusa.changed_products(cursor, limit=max(2, page_size))
        report.pages += 1
        report.seen += len(page.products)
        report.enqueued += queue.send_many(
            sync_requests(connection, [p.id for p in page.products], "pull", side="destination")
        )
        cursor = page.cursor
        if not page.more:
            report.complete = True
            break
        checkpoints.put_checkpoint(
            connection,
            DESTINATION_PULL_CHECKPOINT,
            {"state": "running", "cursor": _saved(cursor), "updated_at": now.isoformat()},
        )
    if report.complete:
        report.checkpoint = {"state": "done", "cursor": _saved(cursor), "run_at": now.isoformat()}
        checkpoints.put_checkpoint(connection, DESTINATION_PULL_CHECKPOINT, report.checkpoint)
    return report


def _saved(cursor: UpdatedAtCursor | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    return {"updated_at": cursor.updated_at.isoformat(), "id": cursor.id, "run_offset": cursor.run_offset}


def _cursor(saved: Any) -> UpdatedAtCursor | None:
    if not isinstance(saved, dict) or not saved.get("updated_at"):
        return None
    return UpdatedAtCursor(
        datetime.fromisoformat(saved["updated_at"]), saved.get("id"), int(saved.get("run_offset") or 0)
    )
