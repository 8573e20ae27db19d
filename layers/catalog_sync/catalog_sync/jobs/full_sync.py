"""Daily full sync (seeds 000, 002): the safety net for missed webhooks and missed deletes.

A hash sweep (see `audit.sweep`) over the source's full listing with variants and images: entities
whose listing hash differs from the full-sync snapshot are enqueued, unchanged ones cost nothing (no
per-entity source fetch, no destination call), and entities the snapshot or the state table knows but
the source no longer lists are enqueued as deletes (the engine soft-deletes them).

Resumable across invocations. The run's progress record (run id, step, next page, seen ids, counters,
errors, timestamps) is saved after every page with optimistic concurrency on `step`: an invocation
claims the run by bumping the step, and continues only while its claim holds. When time runs short
the job returns `complete=False` and the handler asks its `Continuation` port for a fresh invocation
carrying (run id, step). A duplicate or late continuation finds a different step and does nothing; a
run whose worker died (no progress for `lease_s`) is taken over by the next trigger.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from catalog_sync.jobs.audit import FetchPage, SweepState, sweep
from catalog_sync.jobs.common import Sender, Snapshots

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


class _LostClaim(Exception):
    """Another invocation took the run over: stop without touching its progress."""


def full_sync(
    connection: str,
    fetch_page: FetchPage,
    snapshots: Snapshots,
    known_ids: Callable[[], Iterable[int]],
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
    state = SweepState.from_dict(record)
    queued_before = state.changed + state.deleted

    def save(data: dict[str, Any]) -> None:
        if not progress.save(connection, FULL_SYNC_JOB, data, expected_step=claimed):
            raise _LostClaim

    def on_page(s: SweepState) -> None:
        save({**record, **s.to_dict(), "updated_at": now.isoformat()})

    try:
        finished = sweep(
            connection,
            fetch_page,
            snapshots,
            queue,
            state,
            namespace=FULL_SYNC_NAMESPACE,
            origin="full_sync",
            time_left_s=time_left_s,
            min_time_s=min_time_s,
            on_page=on_page,
            known_ids=known_ids,
        )
        error = None
    except _LostClaim:
        return FullSyncReport(connection, "skipped", run_id=record["run_id"], reason="claimed by another")
    except Exception as exc:  # recorded in the progress record; the run continues or gives up below
        finished, error = False, f"{type(exc).__name__}: {exc}"[:500]
    record.update(state.to_dict(), updated_at=now.isoformat())
    if error is not None:
        record["errors"] = int(record.get("errors", 0)) + 1
        record["last_error"] = error
    if finished:
        record.update(state="done", finished_at=now.isoformat(), seen_ranges=[])
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
    return FullSyncReport(
        connection,
        outcome,
        run_id=str(record["run_id"]),
        step=claimed,
        enqueued=state.changed + state.deleted - queued_before,
        pages=state.pages,
        seen=state.seen,
        changed=state.changed,
        deleted=state.deleted,
        errors=int(record.get("errors", 0)),
        reason=error or "",
    )


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
        **SweepState().to_dict(),
    }


def _age_s(record: dict[str, Any] | None, now: datetime) -> float:
    if not record or not record.get("updated_at"):
        return float("inf")
    return (now - datetime.fromisoformat(str(record["updated_at"]))).total_seconds()
