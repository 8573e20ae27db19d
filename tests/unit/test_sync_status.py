"""`catalog-sync status` from the engine's records: an entity is in sync, deleted, or not in sync, and
failed deliveries are listed newest first with whether their entity has synced since."""

from __future__ import annotations

from collections.abc import Iterator

from catalog_sync.store.conflicts import ConflictRecord
from catalog_sync.store.events import EventRecord
from catalog_sync.store.state import EntityState
from catalog_sync.sync_status import conflicts_summary, connection_status, standing, status_report


def state(source_id: int, outcome: str | None, dest_id: int | None = 7, **more: object) -> EntityState:
    return EntityState("c", "product", source_id, dest_id=dest_id, last_outcome=outcome, **more)  # type: ignore[arg-type]


def failed(delivery_id: str, entity_id: int, at_ms: int) -> EventRecord:
    return EventRecord("c", delivery_id, "failed", "store/product/updated", at_ms, "product", entity_id,
                       "upsert", last_error="retries_exhausted: B answered 503")  # fmt: skip


def test_an_entity_is_in_sync_only_when_its_last_sync_settled_at_the_destination() -> None:
    assert standing(state(1, "updated")) == "in_sync"
    assert standing(state(1, "unchanged")) == "in_sync"
    assert standing(state(1, "stale")) == "in_sync"  # an older event after a newer one: nothing to do
    assert standing(state(1, "partial")) == "not_in_sync"  # some parts written; the retry completes it
    assert standing(state(1, None, dest_id=None)) == "not_in_sync"  # never applied (e.g. missing SKU)
    assert standing(state(1, "created", dest_id=None)) == "not_in_sync"
    assert standing(state(1, "deleted", deleted=True)) == "deleted"
    assert standing(state(1, "absent", dest_id=None)) == "deleted"


def test_the_status_counts_lists_and_links_failed_deliveries_to_their_entity_now() -> None:
    states = [
        state(1, "updated"),
        state(2, "partial"),
        state(3, "deleted", deleted=True),
        state(4, "created"),
    ]
    events = [failed("old", 1, 1_000), failed("new", 2, 2_000)]

    status = connection_status(states, events, limit=5)

    assert status["entities"] == {"product": {"in_sync": 2, "not_in_sync": 1, "deleted": 1}}
    assert status["in_sync"] is False
    assert status["not_in_sync"] == [{"entity": "product/2", "last_outcome": "partial", "dest_id": 7}]
    assert [(e["delivery_id"], e["entity_now"]) for e in status["failed_events"]["latest"]] == [
        ("new", "not_in_sync"),
        ("old", "in_sync"),  # failed then, synced since by a later delivery
    ]


def test_lists_are_bounded_and_an_empty_connection_is_in_sync() -> None:
    many = [state(i, "partial") for i in range(50)]

    assert len(connection_status(many, [], limit=3)["not_in_sync"]) == 3
    assert connection_status([], [])["in_sync"] is True


def held(source_id: int, field: str, detected_at: float) -> ConflictRecord:
    return ConflictRecord("c", "product", source_id, field, "open", "manual", "held", 10, 11, 13,
                          None, None, detected_at)  # fmt: skip


def test_open_conflicts_are_counted_oldest_first_with_a_bounded_list_of_ids() -> None:
    waiting = [
        held(7, "price", 1_800_000_100.0),
        held(3, "name", 1_800_000_000.0),
        held(9, "price", 1_800_000_200.0),
    ]

    summary = conflicts_summary(waiting, limit=2)

    assert summary == {
        "open": 3,
        "oldest_open_at": "2027-01-15T08:00:00+00:00",
        "open_ids": ["product/3/name", "product/7/price"],
    }
    assert conflicts_summary([]) == {"open": 0, "oldest_open_at": None, "open_ids": []}


class NoRecords:
    def iter_states(self, connection: str) -> Iterator[EntityState]:
        return iter([])

    def failed_events(self, connection: str) -> list[EventRecord]:
        return []

    def checkpoint(self, connection: str, name: str) -> None:
        return None

    def full_sync_progress(self, connection: str) -> None:
        return None


def test_only_a_two_way_connection_s_report_speaks_of_conflicts() -> None:
    one_way = status_report("c", NoRecords(), lambda queue: 0)
    two_way = status_report("c", NoRecords(), lambda queue: 0, open_conflicts=[held(3, "name", 0.0)])

    assert "conflicts" not in one_way
    assert two_way["conflicts"]["open_ids"] == ["product/3/name"]
