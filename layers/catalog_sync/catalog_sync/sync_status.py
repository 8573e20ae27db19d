"""What is in sync and what is not, for one connection: the answer `catalog-sync status` gives.

Built from the engine's own records, not guessed: every entity the connection ever synced has a state
row (destination id, last outcome, tombstone), and every delivery that could not be applied is an event
in status `failed` with its error. An entity is
- in sync: its last sync ended with the destination matching the source version it read;
- deleted: gone at the source, soft-deleted (or never created) at the destination;
- not in sync: its last attempt stopped part-way (`partial`: some parts written, the retry completes
  them) or never got as far as a write (a first sync that failed, e.g. a missing SKU in the DLQ).
A two-way connection's report also counts its open conflicts (fields held for a person to resolve).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from catalog_sync.store.conflicts import ConflictRecord
from catalog_sync.store.events import EventRecord
from catalog_sync.store.state import EntityState

Standing = Literal["in_sync", "deleted", "not_in_sync"]
QUEUES = ("SyncQueue", "SyncDeadLetterQueue", "FullSyncContinuationQueue")
SETTLED = frozenset({"created", "updated", "restored", "unchanged", "stale"})
OPEN_CONFLICT_IDS = 20  # how many open conflict ids the report names


def standing(state: EntityState) -> Standing:
    if state.deleted or state.last_outcome in ("deleted", "absent"):
        return "deleted"
    if state.dest_id not in (None, "") and state.last_outcome in SETTLED:
        return "in_sync"
    return "not_in_sync"


def connection_status(
    states: Iterable[EntityState], failed_events: Iterable[EventRecord], *, limit: int = 20
) -> dict[str, Any]:
    """Counts per entity type and standing, the entities not in sync (up to `limit`), and the failed
    deliveries (up to `limit`, newest first) with their errors and whether their entity has since synced."""
    counts: dict[str, Counter[str]] = {}
    lagging: list[dict[str, Any]] = []
    standings: dict[tuple[str, int], Standing] = {}
    for state in states:
        where = standing(state)
        standings[(state.entity_type, state.source_id)] = where
        counts.setdefault(state.entity_type, Counter())[where] += 1
        if where == "not_in_sync" and len(lagging) < limit:
            lagging.append(
                {
                    "entity": f"{state.entity_type}/{state.source_id}",
                    "last_outcome": state.last_outcome or "never applied",
                    "dest_id": state.dest_id,
                }
            )
    failed = sorted(failed_events, key=lambda e: e.received_at_ms, reverse=True)
    return {
        "entities": {
            kind: {k: c.get(k, 0) for k in ("in_sync", "not_in_sync", "deleted")}
            for kind, c in sorted(counts.items())
        },
        "in_sync": all(c.get("not_in_sync", 0) == 0 for c in counts.values()),
        "not_in_sync": lagging,
        "failed_events": {
            "count": len(failed),
            "latest": [
                {
                    "delivery_id": e.delivery_id,
                    "scope": e.scope,
                    "entity": f"{e.entity_type}/{e.entity_id}" if e.entity_type else None,
                    "error": e.last_error,
                    "entity_now": standings.get((e.entity_type or "", int(e.entity_id or 0)), "unknown"),
                }
                for e in failed[:limit]
            ],
        },
    }


def conflicts_summary(
    open_conflicts: Iterable[ConflictRecord], *, limit: int = OPEN_CONFLICT_IDS
) -> dict[str, Any]:
    """A two-way connection's open conflicts: how many, since when the oldest waits (ISO-8601 UTC), and
    the ids of the first `limit`, oldest first (`catalog-sync conflicts show --id <id>`)."""
    waiting = sorted(open_conflicts, key=lambda c: (c.detected_at, c.conflict_id))
    return {
        "open": len(waiting),
        "oldest_open_at": iso_time(waiting[0].detected_at) if waiting else None,
        "open_ids": [c.conflict_id for c in waiting[:limit]],
    }


def iso_time(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


class StatusSources(Protocol):
    """Where the report's figures live (store/state.py, store/events.py, store/progress.py)."""

    def iter_states(self, connection: str) -> Iterator[EntityState]: ...

    def failed_events(self, connection: str) -> Iterable[EventRecord]: ...

    def checkpoint(self, connection: str, name: str) -> dict[str, Any] | None: ...

    def full_sync_progress(self, connection: str) -> dict[str, Any] | None: ...


class TableStatusSources:
    """StatusSources over the stack's tables: state rows and checkpoints, events, full sync progress."""

    def __init__(self, state: Any, events: Any, progress: Any, *, now_ms: Callable[[], int]) -> None:
        self.state, self.events, self.progress, self.now_ms = state, events, progress, now_ms

    def iter_states(self, connection: str) -> Iterator[EntityState]:
        states: Iterator[EntityState] = self.state.iter_states(connection)
        return states

    def failed_events(self, connection: str) -> Iterable[EventRecord]:
        failed = self.events.by_status("failed", received_before_ms=self.now_ms() + 1)
        return (e for e in failed if e.connection == connection)

    def checkpoint(self, connection: str, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.state.get_checkpoint(connection, name)
        return found

    def full_sync_progress(self, connection: str) -> dict[str, Any] | None:
        from catalog_sync.jobs import FULL_SYNC_JOB

        found: dict[str, Any] | None = self.progress.get(connection, FULL_SYNC_JOB)
        return found


def status_report(
    connection: str,
    sources: StatusSources,
    queue_depth: Callable[[str], int | None],
    *,
    open_conflicts: Iterable[ConflictRecord] | None = None,
) -> dict[str, Any]:
    """The whole report, as `catalog-sync status` prints it and `GET /status/{connection}` answers it:
    the entities' standing and failed deliveries, full sync progress, pull checkpoints, queue depths and,
    for a two-way connection (`open_conflicts` given), its open conflicts; a one-way one has no
    `conflicts` key."""
    from catalog_sync.jobs import AUDIT_CHECKPOINT, PULL_CHECKPOINT

    conflicts = {} if open_conflicts is None else {"conflicts": conflicts_summary(open_conflicts)}
    return {
        "connection": connection,
        **connection_status(sources.iter_states(connection), sources.failed_events(connection)),
        "full_sync": sources.full_sync_progress(connection),
        "pull": sources.checkpoint(connection, PULL_CHECKPOINT),
        "audit": sources.checkpoint(connection, AUDIT_CHECKPOINT),
        "queues": {name: queue_depth(name) for name in QUEUES},
        **conflicts,
    }
