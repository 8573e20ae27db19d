"""What every sync engine shares: the contract (`sync(request) -> SyncOutcome`), the ports it works
through (state with leases, the audit trail) and the bookkeeping around one entity's sync.

Every path (webhook, hourly pull, full sync, replay) ends in an engine, so correctness is argued once:
- a lease per entity serialises concurrent workers; the loser retries later (RetriableError);
- a notification never carries data: the engine fetches the current version, so an old event is harmless;
- the version guard refuses a source answer older than what was applied; an unchanged hash writes nothing;
- every applied change is committed with the lease released, and recorded in the audit trail;
- every destination write is fenced: a write is only sent while this worker holds the entity's lease,
  renewed first when less than half of it is left (`fence`). A worker that stalled past its lease and
  lost it to another worker raises LeaseHeld instead of writing its older version over the newer one.
  With the consumer's timeout at most half the lease (tested on the template), the renewal never happens
  in Lambda; it guards every other caller (the local runtime, the CLI, a changed timeout).
  One write call may retry (backoff, 429/5xx) for longer than the lease has left, so the fence also bounds
  the destination client's deadline by the lease: no retry is sent once it would land past the lease
  (found by make chaos: a retry sent after another worker had synced a newer version wrote the older one
  over it, and the newer version's hash in the state made every later sync find it unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from catalog_sync.connections import Connection
from catalog_sync.store.changelog import Change
from catalog_sync.store.state import EntityState
from catalog_sync.sync_request import EntityType

OutcomeAction = Literal[
    "created", "updated", "restored", "unchanged", "stale", "deleted", "absent", "pending", "echo", "covered"
]
WRITES = frozenset({"created", "updated", "restored", "deleted"})  # the outcomes that wrote
# The outcomes of a sync that read the source under its lease and left the destination equal to it: their
# commit records when the lease was taken (`synced_from`). Not "stale": the source answered with a version
# older than one applied, so a read made later may well see more.
COMPLETE = WRITES | {"unchanged", "absent"}


class ChangeRecorder(Protocol):
    """The audit trail (store/changelog.py): one entry per change applied at the destination."""

    def record(self, change: Change) -> None: ...


DEFAULT_LEASE_S = 120.0
# Destination client methods that write: each call is fenced by the lease (see FencedWrites).
WRITE_METHODS = ("create_", "update_", "delete_", "ensure_", "soft_delete", "write_")


class StateRepository(Protocol):
    def now(self) -> float: ...

    def get(self, connection: str, entity_type: str, source_id: int) -> EntityState | None: ...

    def acquire(
        self, connection: str, entity_type: str, source_id: int, *, owner: str, lease_s: float
    ) -> EntityState: ...

    def renew(
        self, connection: str, entity_type: str, source_id: int, *, owner: str, lease_s: float
    ) -> float: ...

    def commit(self, state: EntityState, *, owner: str) -> None: ...

    def checkpoint(self, state: EntityState, *, owner: str) -> None: ...

    def release(self, connection: str, entity_type: str, source_id: int, *, owner: str) -> None: ...


@dataclass(frozen=True)
class SyncOutcome:
    entity_type: EntityType
    source_id: int
    action: OutcomeAction
    dest_id: int | str | None = None

    @property
    def wrote(self) -> bool:
        return self.action in WRITES


# The share of the lease a write leaves unused: a request sent just before its bound still reaches the
# destination well inside the lease.
LEASE_MARGIN = 0.1


class FencedWrites:
    """A destination client whose writes (WRITE_METHODS) each call `fence` first, and whose HTTP client
    (its `http`, when it has one) gives up retrying before the shortest lease `fence` reports runs out;
    reads pass through."""

    def __init__(self, inner: Any, fence: Callable[[], float | None]) -> None:
        self.inner = inner  # the client itself
        self._fence = fence

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not (callable(attr) and name.startswith(WRITE_METHODS)):
            return attr

        def fenced(*args: Any, **kwargs: Any) -> Any:
            left = self._fence()
            http = getattr(self.inner, "http", None)
            if left is None or http is None:
                return attr(*args, **kwargs)
            with _deadline_within(http, left):
                return attr(*args, **kwargs)

        return fenced


@contextmanager
def _deadline_within(http: Any, seconds: float) -> Iterator[None]:
    """The HTTP client's deadline, for one call, no later than `seconds` from now (its own clock)."""
    invocation: Callable[[], float] | None = http.deadline
    bound = http.clock() + seconds
    http.deadline = (lambda: bound) if invocation is None else (lambda: min(bound, invocation()))
    try:
        yield
    finally:
        http.deadline = invocation


class EntitySync:
    """Lease, commit and audit for one connection's entities; subclasses fetch, map and write."""

    # Whether one lease-holding sync of an entity reads the source and writes all of it, so that a request
    # queued before a later complete sync's lease needs nothing more (consumer.SyncBatch), and its commits
    # record when that lease was taken (`synced_from`). Not two-way: its forward sync and its merge read the
    # source under two leases.
    covers_earlier_requests = False

    def __init__(
        self,
        connection: Connection,
        state: StateRepository,
        *,
        owner: str,
        lease_s: float = DEFAULT_LEASE_S,
        changes: ChangeRecorder | None = None,
    ) -> None:
        self.connection = connection
        self.state = state
        self.owner = owner
        self.lease_s = lease_s
        self.changes = changes
        self._held: dict[tuple[str, int], float] = {}  # leases this worker holds -> their expiry

    def fenced(self, destination: Any) -> Any:
        return FencedWrites(destination, self.fence)

    def fence(self) -> float | None:
        """Make sure every lease this worker holds lasts through the write about to be sent: renew one
        with less than half its time left (LeaseHeld if another worker has taken it meanwhile). Returns
        how long the write may take (the shortest lease left, less a margin), None if none is held."""
        now = self.state.now()
        for (entity_type, source_id), until in list(self._held.items()):
            if until - now < self.lease_s / 2:
                self._held[(entity_type, source_id)] = self.state.renew(
                    self.connection.name, entity_type, source_id, owner=self.owner, lease_s=self.lease_s
                )
        if not self._held:
            return None
        return min(self._held.values()) - now - self.lease_s * LEASE_MARGIN

    @contextmanager
    def _leased(self, entity_type: EntityType, source_id: int) -> Iterator[EntityState]:
        """The entity's state, leased to this worker; released if the body raises (a commit releases
        it otherwise)."""
        leased_at = self.state.now()  # before the lease: every read under it comes after
        current = self.state.acquire(
            self.connection.name, entity_type, source_id, owner=self.owner, lease_s=self.lease_s
        )
        current = replace(current, leased_at=leased_at)
        self._held[(entity_type, source_id)] = current.lease_until or self.state.now() + self.lease_s
        try:
            yield current
        except BaseException:
            self._held.pop((entity_type, source_id), None)
            self.state.release(self.connection.name, entity_type, source_id, owner=self.owner)
            raise

    def _commit_state(self, state: EntityState) -> None:
        """Write the entity's state and release its lease."""
        self._held.pop((state.entity_type, state.source_id), None)
        self.state.commit(state, owner=self.owner)

    def _commit(
        self, current: EntityState, action: OutcomeAction, written: Sequence[str], **changes: Any
    ) -> SyncOutcome:
        """Commit the entity's new state (releasing the lease); record it when it wrote something."""
        if self.covers_earlier_requests and action in COMPLETE and current.leased_at is not None:
            changes = {"synced_from": current.leased_at, **changes}
        new_state = replace(current, last_outcome=action, **changes)
        self._commit_state(new_state)
        if action in WRITES:
            self._record(new_state, action, new_state.source_modified, written)
        return SyncOutcome(
            entity_type=current.entity_type,  # type: ignore[arg-type]
            source_id=current.source_id,
            action=action,
            dest_id=new_state.dest_id,
        )

    def _record(self, state: EntityState, action: str, version: str | None, written: Sequence[str]) -> None:
        if self.changes is None:
            return
        self.changes.record(
            Change(
                connection=state.connection,
                entity_type=state.entity_type,
                source_id=state.source_id,
                action=action,
                source_version=version,
                fields=tuple(written),
                dest_id=state.dest_id,
                response={"dest_id": state.dest_id, "parts_written": len(written)},
            )
        )


def int_id(value: int | str | None) -> int | None:
    return int(value) if value not in (None, "", 0) else None


def is_older(modified: datetime, applied_iso: str | None) -> bool:
    return applied_iso is not None and modified < datetime.fromisoformat(applied_iso)
