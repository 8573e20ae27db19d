"""Daily full sync (seeds 000, 002): the safety net for missed webhooks and missed deletes.

Hash sweeps (see `audit.sweep`), one per entity type the source lists, dependencies first (BigCommerce:
categories, brands, then products with variants and images): entities whose listing hash differs from
the full-sync snapshot are enqueued, unchanged ones cost nothing (no per-entity source fetch, no
destination call), and entities the snapshot or the state table knows but the source no longer lists
are enqueued as deletes (the engine soft-deletes them).

Resumable across invocations. The run's progress record (run id, step, the sweep in progress with its
next page and seen ids, totals and counters per entity type, errors, timestamps) is saved after every
page with optimistic concurrency on `step`: an invocation claims the run by bumping the step, and
continues only while its claim holds. When time runs short the job returns `complete=False` and the
handler asks its `Continuation` port for a fresh invocation carrying (run id, step). A duplicate or
late continuation finds a different step and does nothing; a run whose worker died (no progress for
`lease_s`) is taken over by the next trigger.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from catalog_sync.jobs.audit import FetchPage, SweepState, sweep
from catalog_sync.jobs.common import Sender, Snapshots
from catalog_sync.sync_request import EntityType

FULL_SYNC_JOB = "full_sync"
FULL_SYNC_NAMESPACE = "full"
MAX_ERRORS = 5
Outcome = Literal["done", "continue", "skipped", "failed"]


class ProgressRecords(Protocol):
    def get(self, connection: str, job: str) -> dict[str, Any] | None: ...

    def save(self, connection: str, job: str, data: dict[str, Any], *, expected_step: int | None) -> bool: ...


class Continuation(Protocol):
    """Run the full sync of `connection` again, in a fresh invocation, from (run_id, step)."""

    def continue_run(self, connection: str, run_id: str, step: int, *, delay_s: int = 0) -> None: ...


@dataclass(frozen=True)
class FullSyncReport:
    connection: str
    outcome: Outcome
    run_id: str | None = None
    step: int = 0
    enqueued: int = 0  # by this invocation
    pages: int = 0
    seen: int = 0
    changed: int = 0
    deleted: int = 0
    errors: int = 0
    reason: str = ""

    @property
    def complete(self) -> bool:
        return self.outcome != "continue"


@dataclass(frozen=True)
class Sweep:
    """One entity type's part of a full sync: its listing, and the ids known from earlier syncs."""

    entity_type: EntityType
    fetch_page: FetchPage
    known_ids: Callable[[], Iterable[int]]
    tombstoned_ids: Callable[[], Iterable[int]] | None = None

    @property
    def namespace(self) -> str:  # products keep the original snapshot namespace
        return (
            FULL_SYNC_NAMESPACE
            if self.entity_type == "product"
            else f"{FULL_SYNC_NAMESPACE}:{self.entity_type}"
        )


COUNTERS = ("pages", "seen", "changed", "deleted")


class _LostClaim(Exception):
    """Another invocation took the run over: stop without touching its progress."""


def full_sync(
    connection: str,
    sweeps: Sequence[Sweep],
    snapshots: Snapshots,
    queue: Sender,
    progress: ProgressRecords,
    *,
    now: datetime,
    time_left_s: Callable[[], float],
    run_id: str | None = None,
    step: int | None = None,
    restart: bool = False,
    min_time_s: float = 60.0,
    lease_s: float = 960.0,
) -> FullSyncReport:
    """Start a run (run_id None), or continue run `run_id` from `step` (a continuation)."""
    current = progress.get(connection, FULL_SYNC_JOB)
    record = _claimable(current, run_id, step, now=now, restart=restart, lease_s=lease_s)
    if record is None:
        return FullSyncReport(
            connection,
            "skipped",
            run_id=run_id or (current or {}).get("run_id"),
            reason="stale continuation" if run_id else "a run is in progress",
        )
    expected = int(current["step"]) if current else None
    record = {**record, "step": int(record.get("step", 0)) + 1, "updated_at": now.isoformat()}
    record["invocations"] = int(record.get("invocations", 0)) + 1
    if not progress.save(connection, FULL_SYNC_JOB, record, expected_step=expected):
        return FullSyncReport(connection, "skipped", run_id=record["run_id"], reason="claimed by another")
    claimed = int(record["step"])
    run = _Run(record)
    queued_before = run.totals()["changed"] + run.totals()["deleted"]

    def save(data: dict[str, Any]) -> None:
        if not progress.save(connection, FULL_SYNC_JOB, data, expected_step=claimed):
            raise _LostClaim

    def on_page(_: SweepState) -> None:
        save({**run.to_record(), "updated_at": now.isoformat()})

    error = None
    try:
        while run.phase < len(sweeps):
            part = sweeps[run.phase]
            if not sweep(
                connection,
                part.fetch_page,
                snapshots,
                queue,
                run.state,
                namespace=part.namespace,
                origin="full_sync",
                time_left_s=time_left_s,
                min_time_s=min_time_s,
                on_page=on_page,
                known_ids=part.known_ids,
                entity_type=part.entity_type,
                tombstoned_ids=part.tombstoned_ids,
            ):
                break
            run.finish_phase(part.entity_type)
            if run.phase < len(sweeps) and time_left_s() < min_time_s:
                break  # the next entity type starts in a fresh invocation
    except _LostClaim:
        return FullSyncReport(connection, "skipped", run_id=record["run_id"], reason="claimed by another")
    except Exception as exc:  # recorded in the progress record; the run continues or gives up below
        error = f"{type(exc).__name__}: {exc}"[:500]
    finished = error is None and run.phase >= len(sweeps)
    record = {**run.to_record(), "updated_at": now.isoformat()}
    if error is not None:
        record["errors"] = int(record.get("errors", 0)) + 1
        record["last_error"] = error
    if finished:
        record.update(state="done", finished_at=now.isoformat(), sweep={})
        outcome: Outcome = "done"
    elif int(record.get("errors", 0)) >= MAX_ERRORS:
        record.update(state="failed", finished_at=now.isoformat())
        outcome = "failed"
    else:
        outcome = "continue"
    try:
        save(record)
    except _LostClaim:
        return FullSyncReport(connection, "skipped", run_id=record["run_id"], reason="claimed by another")
    totals = run.totals()
    return FullSyncReport(
        connection,
        outcome,
        run_id=str(record["run_id"]),
        step=claimed,
        enqueued=totals["changed"] + totals["deleted"] - queued_before,
        pages=totals["pages"],
        seen=totals["seen"],
        changed=totals["changed"],
        deleted=totals["deleted"],
        errors=int(record.get("errors", 0)),
        reason=error or "",
    )


class _Run:
    """A run's position (which entity type, the sweep in progress) and its counters, in and out of its
    progress record. The record's top-level pages/seen/changed/deleted are totals over every type;
    `entities` has them per finished type."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.phase = int(record.get("phase", 0))
        self.state = SweepState.from_dict(record.get("sweep") or {})
        self.entities: dict[str, dict[str, int]] = dict(record.get("entities") or {})

    def finish_phase(self, entity_type: str) -> None:
        self.entities[entity_type] = {k: int(getattr(self.state, k)) for k in COUNTERS}
        self.phase += 1
        self.state = SweepState()

    def totals(self) -> dict[str, int]:
        done = [self.entities[name] for name in self.entities]
        return {k: sum(e.get(k, 0) for e in done) + int(getattr(self.state, k)) for k in COUNTERS}

    def to_record(self) -> dict[str, Any]:
        return {
            **self.record,
            **self.totals(),
            "phase": self.phase,
            "sweep": self.state.to_dict(),
            "entities": self.entities,
        }


def _claimable(
    current: dict[str, Any] | None,
    run_id: str | None,
    step: int | None,
    *,
    now: datetime,
    restart: bool,
    lease_s: float,
) -> dict[str, Any] | None:
    """The record this invocation may work on, or None (someone else owns the run, or it is over)."""
    running = current is not None and current.get("state") == "running"
    idle = not running or _age_s(current, now) > lease_s
    if run_id is not None:  # a continuation: only for the run and step it names (or an abandoned run)
        if not running or current is None or current.get("run_id") != run_id:
            return None
        return current if int(current.get("step", 0)) == step or idle else None
    if restart:
        return _new_run(now)
    if running and current is not None and not idle:
        return None
    if running and current is not None:
        return current  # take over an abandoned run where it stopped
    return _new_run(now)


def _new_run(now: datetime) -> dict[str, Any]:
    return {
        "run_id": uuid.uuid4().hex,
        "state": "running",
        "step": 0,
        "started_at": now.isoformat(),
        "finished_at": None,
        "errors": 0,
        "last_error": None,
        "phase": 0,
        "sweep": {},
        "entities": {},
        **dict.fromkeys(COUNTERS, 0),
    }


def _age_s(record: dict[str, Any] | None, now: datetime) -> float:
    if not record or not record.get("updated_at"):
        return float("inf")
    return (now - datetime.fromisoformat(str(record["updated_at"]))).total_seconds()
