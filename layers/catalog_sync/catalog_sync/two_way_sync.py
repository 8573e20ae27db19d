"""Two-way connections: changes at either side flow to the other, merged field by field.

A two-way connection is its one-way engine (the source's products created, soft-deleted, restored and
their non-merged parts written at the destination, exactly as one way) plus a merge of the fields that
flow both ways (connections.MERGED_FIELDS), which this engine does before the one-way engine runs:
- under the entity's lease (the one-way engine's own, so both never interleave), it reads the side that
  changed and, unless that is our own write coming back, the other side; merges against the base
  (merge.py); writes each side only the fields it lacks; stores the new base, the conflicts (the held ones
  stay open for `catalog-sync conflicts resolve`), and per side the hash of what it now holds by our hand;
  a merge cut short after writing the destination stores what the destination got as synced;
- echo suppression: a webhook whose side holds exactly what we last wrote there (same hash) is our own
  write coming back: nothing is read or written. Scheduled runs (pull, full sync) always merge, so a lost
  webhook of the other side is found by the next one;
- a destination product is paired with its source product by the ownership row the one-way engine
  keeps, else by its key (SKU; Medusa's external_id). One that has no counterpart was created at the
  destination: it is created at the source when the source can create (BigCommerce), then paired;
- existence belongs to the source: a product deleted at the source is soft-deleted at the destination
  (one way); one deleted at the destination is created there again from the source's copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from catalog_sync.connections import Connection
from catalog_sync.entity_sync import (
    DEFAULT_LEASE_S,
    ChangeRecorder,
    EntitySync,
    OutcomeAction,
    StateRepository,
    SyncOutcome,
)
from catalog_sync.errors import PermanentError
from catalog_sync.merge import Conflict, MergeResult, Snapshot, merge
from catalog_sync.store.conflicts import ConflictStore
from catalog_sync.store.state import EntityState
from catalog_sync.sync_request import Side, SyncRequest
from catalog_sync.two_way_sides import MergeSide, values_hash

# A product not wholly written yet (a create or update cut short) is not merged: its destination holds
# part of a version, which would read as the destination's own edit.
_INCOMPLETE = frozenset({"partial", "compensated"})


@dataclass(frozen=True)
class _Step:
    """What one merge did: its outcome; with `defer`, the merged fields the destination still needs
    (`carry`), the merge state to commit once they land, and the conflicts to record then."""

    action: OutcomeAction
    carry: frozenset[str] = frozenset()
    merge_state: dict[str, Any] | None = None
    conflicts: tuple[Conflict, ...] = ()


class TwoWaySync(EntitySync):
    def __init__(
        self,
        connection: Connection,
        forward: Any,
        source: MergeSide,
        destination: MergeSide,
        state: StateRepository,
        conflicts: ConflictStore,
        *,
        counterpart: Callable[[str], int | None],
        create_at_source: Callable[[str], int | None] | None = None,
        owner: str,
        lease_s: float = DEFAULT_LEASE_S,
        changes: ChangeRecorder | None = None,
    ) -> None:
        super().__init__(connection, state, owner=owner, lease_s=lease_s, changes=changes)
        self.forward = forward  # the one-way engine of this connection (its merged fields left out)
        self.sides: dict[Side, MergeSide] = {"source": source, "destination": destination}
        self.conflicts = conflicts
        self.rules = connection.merge_rules()
        self.counterpart = counterpart
        self.create_at_source = create_at_source

    def sync(self, request: SyncRequest) -> SyncOutcome:
        if request.side == "destination":
            return self._from_destination(request)
        if request.entity_type != "product":  # categories and brands flow one way
            return self._forward(request)
        return self._from_source(request)

    def _from_source(self, request: SyncRequest) -> SyncOutcome:
        """Merge, then the one-way engine. What the destination needs from the merge goes with the one-way
        engine's own fields in one write (`carry`), so one save at the source is one write there."""
        source_id = request.entity_id
        step = self._merge(source_id, "source", trust_echo=request.origin == "webhook", defer=True)
        if step is None or not step.carry:
            outcome = self._forward(request)
            if step is None and outcome.wrote:
                # Created or restored: both sides hold the source's values now, the base (nothing is
                # written). Or an update cut short is complete now: merge what it held back.
                again = self._merge(source_id, "source", trust_echo=False)
                return _combined(outcome, again.action if again else None)
            return _combined(outcome, step.action if step else None)
        # Still leased to this worker: the one-way engine takes the same lease again, writes, commits.
        outcome = self.forward.sync_product(source_id, carry=step.carry, merge_state=step.merge_state)
        self._held.pop(("product", source_id), None)
        landed = self.state.get(self.connection.name, "product", source_id)
        if landed is None or landed.merge != step.merge_state:
            # The one-way engine did not write them (a stale source answer, a product gone meanwhile):
            # merge again, writing directly.
            again = self._merge(source_id, "source", trust_echo=False)
            return _combined(outcome, again.action if again else None)
        self._record_conflicts(source_id, landed.dest_id, step.conflicts)
        return _combined(outcome, "updated")

    def _forward(self, request: SyncRequest) -> SyncOutcome:
        outcome: SyncOutcome = self.forward.sync(request)
        return outcome

    def _from_destination(self, request: SyncRequest) -> SyncOutcome:
        dest_id = request.dest_id or ""
        if request.entity_type != "product":  # categories and brands flow one way
            return SyncOutcome(request.entity_type, 0, "absent", dest_id)
        source_id = self.counterpart(dest_id)
        created = False
        if source_id is None:
            if self.create_at_source is None:
                # The source cannot create products (Pixlpay has no create endpoint): nothing to pair.
                return SyncOutcome("product", 0, "absent", dest_id)
            source_id = self.create_at_source(dest_id)
            if source_id is None:  # gone at the destination meanwhile
                return SyncOutcome("product", 0, "absent", dest_id)
            created = True
        source_request = SyncRequest(
            connection=self.connection.name, entity_type="product", entity_id=source_id, origin=request.origin
        )
        known = self.state.get(self.connection.name, "product", source_id)
        if created or known is None or not known.dest_id:
            self._forward(source_request)  # pairs them (adopts the destination product by its key)
        merged = self._merge(source_id, "destination", trust_echo=request.origin == "webhook")
        if merged is None:
            # Gone (or half-written) at the destination: the source decides, and writes it again.
            return self._forward(source_request)
        return SyncOutcome("product", source_id, "created" if created else merged.action, dest_id)

    # --- the merge ---------------------------------------------------------------------------------

    def _merge(self, source_id: int, changed: Side, *, trust_echo: bool, defer: bool = False) -> _Step | None:
        """Merge one paired product; None when there is nothing to merge (not paired yet, deleted, half
        written, or missing at a side): the one-way engine takes it from there. With `defer`, what the
        destination needs is left to the caller (`carry`), the lease still held."""
        with self._leased("product", source_id) as current:
            step = self._merge_leased(current, changed, trust_echo=trust_echo, defer=defer)
            if step is None:
                self._held.pop(("product", source_id), None)
                self.state.release(self.connection.name, "product", source_id, owner=self.owner)
            return step

    def _merge_leased(
        self, current: EntityState, changed: Side, *, trust_echo: bool, defer: bool
    ) -> _Step | None:
        if not current.dest_id or current.deleted or current.last_outcome in _INCOMPLETE:
            return None
        ids: dict[Side, int | str] = {"source": current.source_id, "destination": current.dest_id}
        other: Side = "destination" if changed == "source" else "source"
        kept = current.merge or {}
        first = self.sides[changed].read(ids[changed])
        if first is None:
            return None
        if trust_echo and (kept.get("echo") or {}).get(changed) == values_hash(first.values):
            return _Step(self._commit(current, "echo", []).action)  # our own write, come back
        second = self.sides[other].read(ids[other])
        if second is None:
            return None
        source, destination = (first, second) if changed == "source" else (second, first)
        held = self.conflicts.open_fields(self.connection.name, "product", current.source_id)
        result = merge(kept.get("base"), source, destination, self.rules, held=held)
        for name in sorted(held & result.agreed):  # both sides were brought to agree by hand
            self.conflicts.close(
                self.connection.name,
                "product",
                current.source_id,
                name,
                outcome="agreed",
                resolution=result.base[name],
            )
        # What each side we write holds then by our hand: its webhook for this write is then recognised.
        echo = {
            side: values_hash({**snapshot.values, **values})
            for side, snapshot, values in (
                ("source", source, result.to_source),
                ("destination", destination, result.to_destination),
            )
            if values
        }
        merge_state = {"base": result.base, "echo": echo}
        if defer and result.to_destination:
            self._write(ids, "source", result.to_source)  # a failure here has written nothing yet
            carry = frozenset(result.to_destination)
            return _Step("updated", carry, merge_state, result.conflicts)
        written = self._write(ids, "destination", result.to_destination)
        try:
            written += self._write(ids, "source", result.to_source)
        except Exception:
            if written:
                self._save_partial(current, kept.get("base"), result, destination, written)
            raise
        action: OutcomeAction = "updated" if written else "unchanged"
        committed = self._commit(current, action, written, merge=merge_state).action
        # Recorded once the writes landed: a merge retried after a failed write records its conflicts once.
        self._record_conflicts(current.source_id, current.dest_id, result.conflicts)
        return _Step(committed)

    def _save_partial(
        self,
        current: EntityState,
        base: dict[str, Any] | None,
        result: MergeResult,
        destination: Snapshot,
        written: list[str],
    ) -> None:
        """The destination was written, the source was not: what the destination got is synced now (its
        base, and its echo). Otherwise a later edit of such a field at the destination would meet a stale
        base and be taken for a conflict, which the source's unchanged value could win."""
        partial = dict(result.base)
        for name in result.to_source:  # not written: the retry still finds them changed at the destination
            if base is not None and name in base:
                partial[name] = base[name]
            else:
                partial.pop(name, None)
        echo = {"destination": values_hash({**destination.values, **result.to_destination})}
        progress = replace(current, merge={"base": partial, "echo": echo})
        self._commit_state(progress)
        self._record(progress, "partial", progress.source_modified, written)

    def _write(self, ids: dict[Side, int | str], side: Side, values: dict[str, Any]) -> list[str]:
        if not values:
            return []
        self.fence()  # only while this worker still holds the lease
        self.sides[side].write(ids[side], values)
        return [f"{side}.{name}" for name in sorted(values)]

    def _record_conflicts(
        self, source_id: int, dest_id: int | str | None, conflicts: tuple[Conflict, ...]
    ) -> None:
        for conflict in conflicts:
            self.conflicts.record(self.connection.name, "product", source_id, conflict, dest_id=dest_id)

    # --- a person's decision -----------------------------------------------------------------------

    def resolve(
        self, source_id: int, field: str, *, take: Side | None = None, value: Any = None
    ) -> Resolution:
        """Settle an open conflict: take one side's current value, or a given one; write it to the side(s)
        that lack it, make it the base and close the conflict. The value chosen and where it was written."""
        if field not in self.rules:
            raise PermanentError(f"'{field}' is not a merged field of connection '{self.connection.name}'")
        if self.conflicts.get_open(self.connection.name, "product", source_id, field) is None:
            raise PermanentError(f"no open conflict on product {source_id} field '{field}'")
        with self._leased("product", source_id) as current:
            if not current.dest_id:
                raise PermanentError(f"product {source_id} has no destination counterpart")
            ids: dict[Side, int | str] = {"source": source_id, "destination": current.dest_id}
            snapshots: dict[Side, Snapshot] = {}
            for side, entity_id in ids.items():
                snapshot = self.sides[side].read(entity_id)
                if snapshot is None:
                    raise PermanentError(f"product {source_id} is missing at the {side}: nothing to resolve")
                snapshots[side] = snapshot
            chosen = snapshots[take].values.get(field) if take else value
            written: list[str] = []
            for side, snapshot in snapshots.items():
                if snapshot.values.get(field) != chosen:
                    written += self._write(ids, side, {field: chosen})
            kept = dict(current.merge or {})
            base = {**(kept.get("base") or {}), field: chosen}
            echo = {
                side: values_hash({**snapshot.values, field: chosen})
                for side, snapshot in snapshots.items()
                if snapshot.values.get(field) != chosen
            }
            self._commit(
                current, "updated" if written else "unchanged", written, merge={"base": base, "echo": echo}
            )
        self.conflicts.close(
            self.connection.name, "product", source_id, field, outcome=take or "value", resolution=chosen
        )
        return Resolution(chosen, tuple(sorted(written)))


@dataclass(frozen=True)
class Resolution:
    """A settled conflict: the value both sides now hold, and the writes that took it there
    (`side.field`, e.g. "source.price"; none when both sides held it already)."""

    value: Any
    written: tuple[str, ...]


def _combined(outcome: SyncOutcome, merged: OutcomeAction | None) -> SyncOutcome:
    """One outcome for a source-side sync: the one-way engine's, unless only the merge did something."""
    if outcome.wrote or merged is None or merged == "unchanged":
        return outcome
    return SyncOutcome(outcome.entity_type, outcome.source_id, merged, outcome.dest_id)
