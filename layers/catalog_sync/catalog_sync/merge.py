"""Field-level three-way merge of one entity seen at both sides of a two-way connection.

The base is the value of every merged field as last synced (both sides held it then). Against it:
- a field changed at one side only takes that side's value (written to the other side);
- a field changed at both sides to the same value is agreed (nothing to write);
- a field changed at both sides to different values is a conflict, settled by the field's rule:
  `source` or `destination` (that side wins), `newest` (the side whose own modification time is later
  wins; a tie goes to the source, so the result never depends on which webhook came first), or `manual`
  (held: neither side is written and the base stays, until a person resolves it).
With no base yet (a pair met for the first time, or a connection made two-way) every difference is a
conflict: nothing says which side changed.

Pure: no I/O, so every rule is specified by unit tests (tests/unit/test_merge.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

FieldRule = Literal["source", "destination", "newest", "manual"]
Side = Literal["source", "destination"]
Winner = Literal["source", "destination", "held"]

_MISSING = object()


@dataclass(frozen=True)
class Snapshot:
    """One side's current values of the merged fields, and when that side says it last changed."""

    values: Mapping[str, Any]
    modified: datetime | None = None


@dataclass(frozen=True)
class Conflict:
    """A field changed at both sides to different values, and how its rule settled it."""

    field: str
    base: Any
    source_value: Any
    destination_value: Any
    source_modified: str | None
    destination_modified: str | None
    rule: FieldRule
    outcome: Winner

    @property
    def held(self) -> bool:
        return self.outcome == "held"


@dataclass(frozen=True)
class MergeResult:
    to_source: dict[str, Any] = field(default_factory=dict)
    to_destination: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] = field(default_factory=dict)  # the new base (held fields keep the old one)
    conflicts: tuple[Conflict, ...] = ()
    agreed: frozenset[str] = frozenset()  # fields equal at both sides now (a held one settles itself)

    @property
    def held(self) -> frozenset[str]:
        return frozenset(c.field for c in self.conflicts if c.held)


def merge(
    base: Mapping[str, Any] | None,
    source: Snapshot,
    destination: Snapshot,
    rules: Mapping[str, FieldRule],
    *,
    held: frozenset[str] = frozenset(),
) -> MergeResult:
    """Merge every field named in `rules`. `held`: fields with an open manual conflict, which stay held
    (whatever changed since) until both sides agree or a person resolves them."""
    result = MergeResult(base=dict(base or {}))
    conflicts: list[Conflict] = []
    agreed: set[str] = set()
    for name, rule in rules.items():
        s = source.values.get(name)
        d = destination.values.get(name)
        b = base.get(name, _MISSING) if base is not None else _MISSING
        if s == d:
            result.base[name] = s
            agreed.add(name)
            continue
        s_changed = b is _MISSING or s != b
        d_changed = b is _MISSING or d != b
        if name in held or (s_changed and d_changed):
            conflict = _settle(
                name,
                None if b is _MISSING else b,
                s,
                d,
                source,
                destination,
                "manual" if name in held else rule,
            )
            conflicts.append(conflict)
            if conflict.outcome == "source":
                result.to_destination[name] = result.base[name] = s
            elif conflict.outcome == "destination":
                result.to_source[name] = result.base[name] = d
        elif s_changed:
            result.to_destination[name] = result.base[name] = s
        else:
            result.to_source[name] = result.base[name] = d
    return MergeResult(
        to_source=result.to_source,
        to_destination=result.to_destination,
        base=result.base,
        conflicts=tuple(conflicts),
        agreed=frozenset(agreed),
    )


def _settle(
    name: str, base: Any, s: Any, d: Any, source: Snapshot, destination: Snapshot, rule: FieldRule
) -> Conflict:
    outcome: Winner
    if rule == "manual":
        outcome = "held"
    elif rule == "newest":
        newer_destination = (
            source.modified is not None
            and destination.modified is not None
            and destination.modified > source.modified
        ) or (source.modified is None and destination.modified is not None)
        outcome = "destination" if newer_destination else "source"
    else:
        outcome = rule
    return Conflict(
        field=name,
        base=base,
        source_value=s,
        destination_value=d,
        source_modified=source.modified.isoformat() if source.modified else None,
        destination_modified=destination.modified.isoformat() if destination.modified else None,
        rule=rule,
        outcome=outcome,
    )
