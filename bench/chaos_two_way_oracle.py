"""The judge of bench/chaos_two_way.py: what each field of each product must hold, from the edits alone.

It never asks the engine. It knows every merchant edit (side, field, value: each value is new, so equal
values at both sides can only come from the sync) and looks at both stores after every delivery of the
product. Per field it keeps the last synced value and each side's *pending* edits (made since then):
- at a *sync point* (both sides equal while edits are pending) the pending edits are settled:
  - edits pending at one side only: the value must be that side's last edit (the edit is *kept*; that
    side's earlier pending edits were superseded by its own later one). Anything else: *lost*;
  - edits pending at both sides: a *conflict*; the value must be one side's last edit, the side the
    field's rule names: `source`/`destination`, `newest` (the side whose product `date_modified` was
    later just before the delivery; a tie goes to the source), `manual` (only a resolve settles it, to
    the value the person chose). A wrong side is *misruled*;
- between sync points each side must hold its own last pending edit, else the last synced value:
  anything else was written by the sync where nothing asked for it (*wrong value*).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Side = Literal["a", "b"]
SIDES: tuple[Side, Side] = ("a", "b")
RULE_SIDE = {"source": "a", "destination": "b"}


@dataclass
class Edit:
    number: int
    side: Side
    sku: str
    values: dict[str, Any]
    step: int
    propagated: bool = False  # one of its values was kept, or won a conflict: the other side needed it


@dataclass
class FieldTrack:
    synced: Any
    pending: dict[Side, list[Edit]] = field(default_factory=lambda: {"a": [], "b": []})

    def last(self, side: Side, name: str) -> Any:
        return self.pending[side][-1].values[name]


@dataclass
class Oracle:
    rules: dict[str, str]  # field -> rule, for every field the run edits (non-merged ones: "source")
    tracks: dict[tuple[str, str], FieldTrack] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)  # "rule -> winner"
    violations: list[str] = field(default_factory=list)
    history: dict[str, list[str]] = field(default_factory=dict)  # sku -> what happened to it, in order
    edits: list[Edit] = field(default_factory=list)

    def propagated(self, side: Side) -> int:
        """Edits at `side` the other side needed (a value of theirs was kept, or won a conflict)."""
        return sum(1 for e in self.edits if e.side == side and e.propagated)

    def start(self, sku: str, values: dict[str, Any]) -> None:
        """The product's values once both sides hold it (the base of the run)."""
        for name in self.rules:
            self.tracks[(sku, name)] = FieldTrack(synced=values[name])

    def edited(self, edit: Edit) -> None:
        self.edits.append(edit)
        self.counts["edits"] += 1
        for name in edit.values:
            self.counts["field_edits"] += 1
            self.tracks[(edit.sku, name)].pending[edit.side].append(edit)
        self.note(edit.sku, f"step {edit.step}: edit #{edit.number} at {edit.side.upper()}: {edit.values}")

    def note(self, sku: str, line: str) -> None:
        self.history.setdefault(sku, []).append(line)

    def pending(self) -> int:
        return sum(len(t.pending["a"]) + len(t.pending["b"]) for t in self.tracks.values())

    def observe(
        self,
        sku: str,
        a: dict[str, Any],
        b: dict[str, Any],
        *,
        newer: Side | None = None,
        resolved: dict[str, Any] | None = None,
    ) -> None:
        """Judge one product seen at both sides. `newer`: which side's date_modified was later just before
        the delivery (None: a tie); `resolved`: the values a person chose by resolving conflicts."""
        for name in self.rules:
            self._judge(sku, name, a[name], b[name], newer, (resolved or {}).get(name, _UNSET))

    def _judge(self, sku: str, name: str, a: Any, b: Any, newer: Side | None, resolved: Any) -> None:
        track = self.tracks[(sku, name)]
        pending = {side for side in SIDES if track.pending[side]}
        if a != b:
            for side, value in zip(SIDES, (a, b), strict=True):
                expected = track.last(side, name) if side in pending else track.synced
                if value != expected:
                    self._violation(
                        sku, f"wrong value: {name} at {side.upper()} is {value!r}, not {expected!r}"
                    )
            return
        if not pending:
            if a != track.synced:
                self._violation(sku, f"wrong value: {name} is {a!r} at both sides, not {track.synced!r}")
            return
        if len(pending) == 1:
            [side] = pending
            if a == track.last(side, name):
                track.pending[side][-1].propagated = True
                self.counts["kept"] += 1
                self.counts["superseded_by_own_edit"] += len(track.pending[side]) - 1
            else:
                self._violation(
                    sku, f"lost edit: {name} is {a!r}, not {side.upper()}'s last {track.last(side, name)!r}"
                )
        else:
            self._conflict(sku, name, track, a, newer, resolved)
        track.synced = a
        track.pending = {"a": [], "b": []}

    def _conflict(
        self, sku: str, name: str, track: FieldTrack, value: Any, newer: Side | None, resolved: Any
    ) -> None:
        rule = self.rules[name]
        winner = next((s for s in SIDES if track.last(s, name) == value), None)
        if rule == "manual":
            expected = "resolve" if resolved is not _UNSET and resolved == value else None
            outcome = "resolved"
        elif rule == "newest":
            expected, outcome = newer or "a", winner or "neither"
        else:
            expected, outcome = RULE_SIDE[rule], winner or "neither"
        if expected is None or (rule != "manual" and winner != expected):
            self._violation(sku, f"misruled: {name} ({rule}) settled at {value!r}, winner {outcome}")
        elif rule != "manual" and winner is not None:
            track.pending[winner][-1].propagated = True
        self.conflicts[f"{rule} -> {_side_name(outcome)}"] += 1
        self.counts["conflicting_field_edits"] += len(track.pending["a"]) + len(track.pending["b"])
        self.note(sku, f"  conflict on {name} ({rule}) settled at {value!r}")

    def _violation(self, sku: str, what: str) -> None:
        self.violations.append(f"{sku}: {what}")
        self.note(sku, f"  !! {what}")


_UNSET = object()


def _side_name(outcome: str) -> str:
    return {"a": "source", "b": "destination"}.get(outcome, outcome)


def later(a_modified: str, b_modified: str) -> Side | None:
    """Which side's product changed later (ISO times), None for the same second."""
    a_at, b_at = datetime.fromisoformat(a_modified), datetime.fromisoformat(b_modified)
    return None if a_at == b_at else ("a" if a_at > b_at else "b")
