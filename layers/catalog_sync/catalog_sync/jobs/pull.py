"""Hourly pull, cursor mode (seed 001): the source sorts, pages and filters by modification time
(BigCommerce `sort=date_modified&date_modified:min=<full ISO timestamp>`).

Keyset paging on (date_modified, id): every request asks for `date_modified >= since` in (modified, id)
order, and every item at or below the last processed key is skipped. After a page, `since` moves to the
newest timestamp processed and paging restarts at page 1 - unless the whole page shared `since` (a run
of equal timestamps longer than a page), in which case the next page of the same query is read. Each
request thus makes progress; equal timestamps across a page boundary are neither skipped nor repeated.
Items changed while the pass runs move past the keyset and are read later in the same pass.

The checkpoint is written after every page, so a pull that is killed (timeout, crash) resumes with the
next page. A new pass starts `overlap` seconds before the last cursor, catching changes the source
committed late with an older timestamp; what the previous pass already enqueued from that window
(the same id at the same date_modified) is not enqueued again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from catalog_sync.connectors.paging import Page
from catalog_sync.jobs.common import Checkpoints, Sender, sync_requests

PULL_CHECKPOINT = "pull"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_RECENT = 1000  # remembered (id, date_modified) pairs of the overlap window, newest first
Key = tuple[datetime, int]


class CursorSource(Protocol):
    def list_products(
        self,
        *,
        page: int,
        limit: int,
        modified_since: datetime | None,
        sort: str,
        include: str | None,
    ) -> Page: ...


@dataclass
class JobReport:
    connection: str
    mode: str = "cursor"
    pages: int = 0
    seen: int = 0
    enqueued: int = 0
    deleted: int = 0
    complete: bool = True
    checkpoint: dict[str, Any] = field(default_factory=dict)


def pull_changes(
    connection: str,
    source: CursorSource,
    queue: Sender,
    checkpoints: Checkpoints,
    *,
    page_size: int = 250,
    overlap_s: int,
    now: datetime,
    time_left_s: Callable[[], float],
    min_time_s: float = 10.0,
    max_pages: int = 100_000,
) -> JobReport:
    saved = checkpoints.get_checkpoint(connection, PULL_CHECKPOINT) or {}
    if saved.get("state") == "running":
        since, page = _dt(saved["since"]), int(saved["page"])
        last = _key(saved.get("last"))
        skip = {(int(i), str(m)) for i, m in saved.get("skip", [])}
        window = {int(i): _dt(m) for i, m in saved.get("window", [])}
    else:
        cursor = _dt(saved["cursor"]) if saved.get("cursor") else None
        since = max(EPOCH, cursor - timedelta(seconds=overlap_s)) if cursor else EPOCH
        page, last, window = 1, None, {}
        skip = {(int(i), str(m)) for i, m in saved.get("recent", [])}
    report = JobReport(connection)
    done = False
    for _ in range(max_pages):
        if time_left_s() < min_time_s:
            break
        result = source.list_products(
            page=page, limit=page_size, modified_since=since, sort="date_modified", include=None
        )
        report.pages += 1
        report.seen += len(result.items)
        keys = [(_dt(item["date_modified"]), int(item["id"])) for item in result.items]
        fresh = [k for k in keys if (last is None or k > last) and (k[1], k[0].isoformat()) not in skip]
        report.enqueued += queue.send_many(sync_requests(connection, [i for _, i in fresh], "pull"))
        if keys:
            newest = max(keys)
            last = newest if last is None else max(last, newest)
            window.update({i: m for m, i in keys})
            window = _prune(window, last[0] - timedelta(seconds=overlap_s))
            page = page + 1 if last[0] == since else 1
            since = last[0]
        done = result.is_last or not result.items
        if done:
            break
        checkpoints.put_checkpoint(
            connection,
            PULL_CHECKPOINT,
            {
                "state": "running",
                "since": since.isoformat(),
                "page": page,
                "last": [last[0].isoformat(), last[1]] if last else None,
                "skip": [[i, m] for i, m in sorted(skip)][:MAX_RECENT],
                "window": _pairs(window),
                "cursor": saved.get("cursor"),
                "updated_at": now.isoformat(),
            },
        )
    report.complete = done
    if done:
        report.checkpoint = {
            "state": "done",
            "cursor": last[0].isoformat() if last else saved.get("cursor"),
            "recent": _pairs(window),
            "run_at": now.isoformat(),
        }
        checkpoints.put_checkpoint(connection, PULL_CHECKPOINT, report.checkpoint)
    return report


def _dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _key(value: Any) -> Key | None:
    if not value:
        return None
    return (_dt(str(value[0])), int(value[1]))


def _prune(window: dict[int, datetime], floor: datetime) -> dict[int, datetime]:
    kept = sorted(((m, i) for i, m in window.items() if m >= floor), reverse=True)[:MAX_RECENT]
    return {i: m for m, i in kept}


def _pairs(window: dict[int, datetime]) -> list[list[Any]]:
    return [[i, m.isoformat()] for i, m in sorted(window.items())]
