"""Hourly pull, cursor mode (seed 001): the source sorts, pages and filters by modification time
(BigCommerce `sort=date_modified&date_modified:min=<full ISO timestamp>`, whole seconds).

Every request asks for `date_modified >= since`, page 1, oldest first. After a page, `since` moves to the
newest timestamp on it, and the ids already read at that timestamp are remembered: the next request
re-reads them (the filter is inclusive) and skips them, whatever order the source gives equal timestamps.
Items changed while the pass runs move past `since` and are read later in the same pass.

A run of equal timestamps longer than a page cannot be crossed that way (page 1 would answer the same
run forever), and reading it by page offset loses an item whenever one already read leaves the run
(an edit moves it to a later second and every later offset shifts down by one). So a run that fills a
whole page is read by id instead: `date_modified:min = max = since`, `sort=id`, `id:greater=<last id>`.
Ids do not move, so an item leaving the run shifts nothing. Past the run, `since` moves one second on.

A two-way connection's destination is pulled the same way when it can be (a BigCommerce store), under its
own checkpoint, enqueueing destination-side requests: the safety net for its lost webhooks.

The checkpoint is written after every page, so a pull that is killed (timeout, crash) resumes with the
next page. A new pass starts `overlap` seconds before the last cursor, catching changes the source
committed late with an older timestamp, and re-enqueues everything in that window: `date_modified` has
whole seconds, so a second edit made in the same second as one already pulled looks exactly like it by
(id, date_modified). Re-enqueuing is cheap (the engine's unchanged hash writes nothing); missing an edit
is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from catalog_sync.connectors.paging import Page
from catalog_sync.jobs.common import Checkpoints, Sender, sync_requests
from catalog_sync.sync_request import Side

PULL_CHECKPOINT = "pull"
DESTINATION_PULL_CHECKPOINT = "pull@destination"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class CursorSource(Protocol):
    def list_products(
        self,
        *,
        page: int,
        limit: int,
        modified_since: datetime | None,
        sort: str,
        include: str | None,
        modified_until: datetime | None = None,
        id_greater: int | None = None,
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
    side: Side = "source",
) -> JobReport:
    checkpoint_name = PULL_CHECKPOINT if side == "source" else DESTINATION_PULL_CHECKPOINT
    saved = checkpoints.get_checkpoint(connection, checkpoint_name) or {}
    if saved.get("state") == "running" and "seen" in saved:
        since = _dt(saved["since"])
        seen = {int(i) for i in saved["seen"]}  # ids already enqueued at `since`
        tie_after = saved.get("tie_after")  # reading a long run of ties at `since` by id, past this id
        newest = _dt(saved["newest"]) if saved.get("newest") else None
    else:
        cursor = _dt(saved["cursor"]) if saved.get("cursor") else None
        since = max(EPOCH, cursor - timedelta(seconds=overlap_s)) if cursor else EPOCH
        seen, tie_after, newest = set(), None, cursor
    report = JobReport(connection, mode="cursor" if side == "source" else "cursor@destination")
    done = False
    for _ in range(max_pages):
        if time_left_s() < min_time_s:
            break
        if tie_after is None:
            result = source.list_products(
                page=1, limit=page_size, modified_since=since, sort="date_modified", include=None
            )
        else:
            result = source.list_products(
                page=1, limit=page_size, modified_since=since, modified_until=since, sort="id",
                include=None, id_greater=int(tie_after),
            )  # fmt: skip
        report.pages += 1
        report.seen += len(result.items)
        keys = [(_dt(item["date_modified"]), int(item["id"])) for item in result.items]
        fresh = [i for m, i in keys if m > since or i not in seen]
        report.enqueued += queue.send_many(sync_requests(connection, fresh, "pull", side=side))
        full = len(keys) >= page_size and not result.is_last
        if keys:
            newest = max([newest or EPOCH, *(m for m, _ in keys)])
        if tie_after is not None:  # inside a long run of ties: by id until it is exhausted
            seen.update(fresh)
            tie_after = max(i for _, i in keys) if full else None
            if not full:
                since, seen = since + SECOND, set()
            full = True  # past the run, the listing goes on
        elif full and len({m for m, _ in keys}) == 1:  # a run of ties fills the page: read it by id
            since, seen, tie_after = keys[0][0], {i for _, i in keys}, 0
        elif full:
            since = max(m for m, _ in keys)
            seen = {i for m, i in keys if m == since}
        done = not full and tie_after is None
        if done:
            break
        checkpoints.put_checkpoint(
            connection,
            checkpoint_name,
            {
                "state": "running",
                "since": since.isoformat(),
                "seen": sorted(seen),
                "tie_after": tie_after,
                "newest": newest.isoformat() if newest else None,
                "cursor": saved.get("cursor"),
                "updated_at": now.isoformat(),
            },
        )
    report.complete = done
    if done:
        report.checkpoint = {
            "state": "done",
            "cursor": newest.isoformat() if newest else saved.get("cursor"),
            "run_at": now.isoformat(),
        }
        checkpoints.put_checkpoint(connection, checkpoint_name, report.checkpoint)
    return report


def _dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
