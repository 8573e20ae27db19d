"""Hash sweeps: page through everything a source lists and compare each entity's content hash with a
snapshot in DynamoDB - the hourly pull's audit mode (seed 001, for sources that cannot filter by
modification time, such as Pixlpay) and the daily full sync (seeds 000, 002) share it.

Only what changed is enqueued: a new or changed hash as an upsert, an entity the source no longer lists
as a delete (the engine then soft-deletes it at the destination). The snapshot is written after the
requests are queued, so a crash between the two re-detects the change instead of losing it. A first
sweep builds the snapshot; later sweeps write only the differences.

A sweep is resumable: `SweepState` (next page, the ids seen so far as compact ranges, counters) is
saved after every page through `on_page`, and a later invocation continues from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from catalog_sync.connectors.paging import Page
from catalog_sync.jobs.common import (
    Checkpoints,
    IdSet,
    Sender,
    Snapshots,
    listing_hash,
    sync_requests,
)
from catalog_sync.jobs.pull import JobReport
from catalog_sync.sync_request import EntityType, Origin

AUDIT_CHECKPOINT = "audit"
AUDIT_NAMESPACE = "audit"

# One page of the source's full listing, by page number (1-based).
FetchPage = Callable[[int], Page]


@dataclass
class SweepState:
    next_page: int = 1
    seen_ranges: list[list[int]] = field(default_factory=list)
    pages: int = 0
    seen: int = 0
    changed: int = 0
    deleted: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepState:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sweep(
    connection: str,
    fetch_page: FetchPage,
    snapshots: Snapshots,
    queue: Sender,
    state: SweepState,
    *,
    namespace: str,
    origin: Origin,
    time_left_s: Callable[[], float],
    min_time_s: float,
    on_page: Callable[[SweepState], None],
    known_ids: Callable[[], Iterable[int]] | None = None,
    max_pages: int = 100_000,
    entity_type: EntityType = "product",
    tombstoned_ids: Callable[[], Iterable[int]] | None = None,
) -> bool:
    """Run the sweep from `state` until it finishes (True) or time runs short (False). At least one
    page is done per call, so every invocation makes progress. When the sweep ends, an entity the
    source listed while the destination holds its tombstone (`tombstoned_ids`: soft-deleted after a
    transient 404, say) is enqueued even when its hash is unchanged, so it is restored; like
    `known_ids`, the tombstones are read once per sweep, not once per invocation."""
    snapshot = snapshots.load(connection, namespace)
    seen = IdSet(state.seen_ranges)
    for done_here in range(max_pages):
        if done_here and time_left_s() < min_time_s:
            return False
        page = fetch_page(state.next_page)
        changed: dict[int, str] = {}
        for item in page.items:
            entity_id = int(item["id"])
            if entity_id in seen:  # listed twice (the listing shifted under us): once is enough
                continue
            seen.add(entity_id)
            digest = listing_hash(item)
            if snapshot.get(entity_id) != digest:
                changed[entity_id] = digest
        queue.send_many(sync_requests(connection, changed, origin, entity_type=entity_type))
        snapshots.put_many(connection, namespace, changed)
        snapshot.update(changed)
        state.pages += 1
        state.seen = len(seen)
        state.changed += len(changed)
        state.next_page += 1
        state.seen_ranges = seen.ranges()
        if page.is_last or not page.items:
            break
        on_page(state)
    else:
        return False
    restore = sorted(i for i in (tombstoned_ids() if tombstoned_ids else ()) if i in seen)
    queue.send_many(sync_requests(connection, restore, origin, entity_type=entity_type))
    state.changed += len(restore)
    gone = set(snapshot) | set(known_ids() if known_ids else ())
    vanished = sorted(i for i in gone if i not in seen)
    queue.send_many(sync_requests(connection, vanished, origin, "delete", entity_type))
    snapshots.delete_many(connection, namespace, [i for i in vanished if i in snapshot])
    state.deleted += len(vanished)
    return True


def audit_pull(
    connection: str,
    fetch_page: FetchPage,
    snapshots: Snapshots,
    queue: Sender,
    checkpoints: Checkpoints,
    *,
    now: datetime,
    time_left_s: Callable[[], float],
    min_time_s: float = 10.0,
    tombstoned_ids: Callable[[], Iterable[int]] | None = None,
) -> JobReport:
    """Audit mode: one sweep per pull, resumed by the next pull if it ran out of time. Listed entities
    the destination holds only a tombstone of are enqueued too (see `sweep`)."""
    saved = checkpoints.get_checkpoint(connection, AUDIT_CHECKPOINT) or {}
    state = SweepState.from_dict(saved) if saved.get("state") == "running" else SweepState()
    before = SweepState(**state.to_dict())

    def save(progress: SweepState) -> None:
        checkpoints.put_checkpoint(
            connection,
            AUDIT_CHECKPOINT,
            {**progress.to_dict(), "state": "running", "updated_at": now.isoformat()},
        )

    complete = sweep(
        connection,
        fetch_page,
        snapshots,
        queue,
        state,
        namespace=AUDIT_NAMESPACE,
        origin="pull",
        time_left_s=time_left_s,
        min_time_s=min_time_s,
        on_page=save,
        tombstoned_ids=tombstoned_ids,
    )
    report = JobReport(
        connection,
        mode="audit",
        pages=state.pages - before.pages,
        seen=state.seen,
        enqueued=(state.changed - before.changed) + (state.deleted - before.deleted),
        deleted=state.deleted - before.deleted,
        complete=complete,
    )
    if complete:
        report.checkpoint = {
            "state": "done",
            "run_at": now.isoformat(),
            "seen": state.seen,
            "changed": state.changed,
            "deleted": state.deleted,
        }
        checkpoints.put_checkpoint(connection, AUDIT_CHECKPOINT, report.checkpoint)
    else:
        save(state)
    return report
