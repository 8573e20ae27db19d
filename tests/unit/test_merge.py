"""Field-level three-way merge (merge.py): each field against the last synced base, rules for conflicts."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog_sync.merge import Snapshot, merge

EARLY = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
LATE = datetime(2026, 1, 1, 9, 5, tzinfo=UTC)
BASE = {"name": "Mug", "price": 10.0}
RULES = {"name": "newest", "price": "source"}


def test_a_field_changed_at_one_side_only_takes_that_sides_value_at_the_other() -> None:
    result = merge(
        BASE,
        Snapshot({"name": "Big mug", "price": 10.0}, EARLY),
        Snapshot({"name": "Mug", "price": 12.0}, LATE),
        RULES,
    )
    assert result.to_destination == {"name": "Big mug"}
    assert result.to_source == {"price": 12.0}
    assert result.base == {"name": "Big mug", "price": 12.0}
    assert result.conflicts == ()


def test_the_same_change_at_both_sides_is_agreed_without_a_write_or_a_conflict() -> None:
    result = merge(
        BASE, Snapshot({"name": "Mug", "price": 11.0}), Snapshot({"name": "Mug", "price": 11.0}), RULES
    )
    assert (result.to_source, result.to_destination, result.conflicts) == ({}, {}, ())
    assert result.base["price"] == 11.0
    assert result.agreed == {"name", "price"}


def test_a_conflict_under_source_rule_takes_the_source_value_and_is_recorded() -> None:
    result = merge(
        BASE,
        Snapshot({"name": "Mug", "price": 11.0}, EARLY),
        Snapshot({"name": "Mug", "price": 13.0}, LATE),
        RULES,
    )
    assert result.to_destination == {"price": 11.0}
    assert result.to_source == {}
    [conflict] = result.conflicts
    assert (conflict.field, conflict.base, conflict.source_value, conflict.destination_value) == (
        "price",
        10.0,
        11.0,
        13.0,
    )
    assert (conflict.rule, conflict.outcome) == ("source", "source")
    assert conflict.destination_modified == LATE.isoformat()


def test_destination_rule_takes_the_destination_value() -> None:
    result = merge(
        BASE,
        Snapshot({"name": "A", "price": 10.0}),
        Snapshot({"name": "B", "price": 10.0}),
        {"name": "destination"},
    )
    assert result.to_source == {"name": "B"}
    assert result.conflicts[0].outcome == "destination"


def test_newest_rule_takes_the_side_changed_last_by_its_own_clock_and_a_tie_goes_to_the_source() -> None:
    later_destination = merge(
        BASE, Snapshot({"name": "A"}, EARLY), Snapshot({"name": "B"}, LATE), {"name": "newest"}
    )
    assert later_destination.to_source == {"name": "B"}
    later_source = merge(
        BASE, Snapshot({"name": "A"}, LATE), Snapshot({"name": "B"}, EARLY), {"name": "newest"}
    )
    assert later_source.to_destination == {"name": "A"}
    tie = merge(BASE, Snapshot({"name": "A"}, LATE), Snapshot({"name": "B"}, LATE), {"name": "newest"})
    assert tie.to_destination == {"name": "A"}


def test_manual_rule_holds_the_field_writes_neither_side_and_keeps_the_base() -> None:
    result = merge(
        BASE,
        Snapshot({"name": "Mug", "price": 11.0}),
        Snapshot({"name": "Mug", "price": 13.0}),
        {"name": "newest", "price": "manual"},
    )
    assert (result.to_source, result.to_destination) == ({}, {})
    assert result.base["price"] == 10.0
    assert result.held == {"price"}


def test_a_held_field_stays_held_when_one_side_changes_again_and_settles_when_both_agree() -> None:
    again = merge(
        BASE,
        Snapshot({"name": "Mug", "price": 14.0}),
        Snapshot({"name": "Mug", "price": 13.0}),
        RULES,
        held=frozenset({"price"}),
    )
    assert again.held == {"price"} and again.to_destination == {}
    agreed = merge(
        BASE,
        Snapshot({"name": "Mug", "price": 13.0}),
        Snapshot({"name": "Mug", "price": 13.0}),
        RULES,
        held=frozenset({"price"}),
    )
    assert agreed.conflicts == () and "price" in agreed.agreed and agreed.base["price"] == 13.0


def test_without_a_base_every_difference_is_a_conflict_settled_by_its_rule() -> None:
    result = merge(
        None, Snapshot({"name": "A", "price": 1.0}, EARLY), Snapshot({"name": "B", "price": 2.0}, LATE), RULES
    )
    assert {c.field: c.outcome for c in result.conflicts} == {"name": "destination", "price": "source"}
    assert result.conflicts[0].base is None
    assert result.to_source == {"name": "B"} and result.to_destination == {"price": 1.0}
