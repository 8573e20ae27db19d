"""The scheduled jobs' logic, on in-memory sources and stores (the simulator tests are in integration/)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog_sync.connectors.paging import Page
from catalog_sync.jobs import (
    FULL_SYNC_JOB,
    IdSet,
    Sweep,
    cleanup_events,
    full_sync,
    listing_hash,
    pull_changes,
    replay_requests,
)
from catalog_sync.store.events import EventRecord
from catalog_sync.sync_request import SyncRequest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
PLENTY = lambda: 1e9  # noqa: E731 - time left: never short


# --- fakes --------------------------------------------------------------------------------------------


class Queue:
    def __init__(self) -> None:
        self.sent: list[SyncRequest] = []

    def send_many(self, requests: Iterable[SyncRequest]) -> int:
        batch = list(requests)
        self.sent.extend(batch)
        return len(batch)

    def ids(self, action: str = "upsert") -> list[int]:
        return [r.entity_id for r in self.sent if r.action == action]


class Checkpoints:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
        self.writes = 0

    def get_checkpoint(self, connection: str, name: str) -> dict[str, Any] | None:
        return self.data.get((connection, name))

    def put_checkpoint(self, connection: str, name: str, data: dict[str, Any]) -> None:
        self.writes += 1
        self.data[(connection, name)] = dict(data)


class ModifiedSource:
    """A source sorting, filtering and paging by date_modified like BigCommerce (ties in id order), with
    `date_modified:max`, `id:greater` and `sort=id`. `on_request` runs before each answer (edits that
    happen while the pull runs)."""

    def __init__(self, items: Mapping[int, datetime]) -> None:
        self.items = dict(items)
        self.requests: list[tuple[int, datetime | None]] = []
        self.on_request: Callable[[int], None] = lambda n: None

    def list_products(
        self,
        *,
        page: int,
        limit: int,
        modified_since: datetime | None,
        sort: str,
        include: str | None,
        modified_until: datetime | None = None,
        id_greater: int | None = None,
    ) -> Page:
        assert sort in ("date_modified", "id")
        self.on_request(len(self.requests))
        self.requests.append((page, modified_since))
        since = modified_since or datetime.min.replace(tzinfo=UTC)
        until = modified_until or datetime.max.replace(tzinfo=UTC)
        rows = sorted(
            (m, i) if sort == "date_modified" else (i, m)
            for i, m in self.items.items()
            if since <= m <= until and i > (id_greater or 0)
        )
        chunk = rows[(page - 1) * limit : page * limit]
        data = [{"id": a, "date_modified": b.isoformat()} if sort == "id" else
                {"id": b, "date_modified": a.isoformat()} for a, b in chunk]  # fmt: skip
        return Page(data, page, max(1, math.ceil(len(rows) / limit)), len(rows))


class Snapshots:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], dict[int, str]] = {}
        self.writes = 0

    def load(self, connection: str, namespace: str) -> dict[int, str]:
        return dict(self.data.get((connection, namespace), {}))

    def put_many(self, connection: str, namespace: str, hashes: Mapping[int, str]) -> int:
        self.writes += len(hashes)
        self.data.setdefault((connection, namespace), {}).update(hashes)
        return len(hashes)

    def delete_many(self, connection: str, namespace: str, ids: Iterable[int]) -> int:
        gone = list(ids)
        self.writes += len(gone)
        for i in gone:
            self.data.get((connection, namespace), {}).pop(i, None)
        return len(gone)


class Listing:
    """A source listed page by page in id order (the audit / full sync view)."""

    def __init__(self, products: Mapping[int, str], page_size: int = 3) -> None:
        self.products = dict(products)
        self.page_size = page_size
        self.fail_on_page: int | None = None

    def __call__(self, number: int) -> Page:
        if number == self.fail_on_page:
            self.fail_on_page = None
            raise ConnectionError("source timed out")
        rows = sorted(self.products.items())
        chunk = rows[(number - 1) * self.page_size : number * self.page_size]
        total_pages = max(1, math.ceil(len(rows) / self.page_size))
        return Page([{"id": i, "name": n} for i, n in chunk], number, total_pages, len(rows))


class Progress:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, connection: str, job: str) -> dict[str, Any] | None:
        record = self.records.get((connection, job))
        return dict(record) if record else None

    def save(self, connection: str, job: str, data: dict[str, Any], *, expected_step: int | None) -> bool:
        current = self.records.get((connection, job))
        if current is not None and (expected_step is None or current["step"] != expected_step):
            return False
        self.records[(connection, job)] = dict(data)
        return True


def _one_page_at_a_time() -> Any:
    """time_left_s for an invocation that must stop after its first page."""
    return lambda: 0.0


# --- cursor mode --------------------------------------------------------------------------------------


def test_equal_timestamps_across_page_boundaries_are_pulled_exactly_once() -> None:
    same = T0 + timedelta(minutes=5)
    source = ModifiedSource({**{i: same for i in range(1, 8)}, 8: same + timedelta(seconds=1)})
    queue = Queue()

    report = pull_changes(
        "c", source, queue, Checkpoints(), page_size=3, overlap_s=0, now=NOW, time_left_s=PLENTY
    )

    assert sorted(queue.ids()) == list(range(1, 9))
    assert len(queue.ids()) == 8
    assert report.complete


def test_a_run_of_ties_longer_than_a_page_still_progresses_and_ends() -> None:
    source = ModifiedSource(dict.fromkeys(range(1, 11), T0))
    queue = Queue()

    pull_changes("c", source, queue, Checkpoints(), page_size=2, overlap_s=0, now=NOW, time_left_s=PLENTY)

    assert queue.ids() == list(range(1, 11))
    # the first page, the run again by id (5 pages), the listing after it
    assert len(source.requests) == 7


def test_an_item_leaving_a_long_run_of_ties_mid_pull_shifts_no_unread_item_out_of_reach() -> None:
    source = ModifiedSource({**dict.fromkeys(range(1, 11), T0), 11: T0 + timedelta(seconds=5)})
    queue = Queue()

    def merchant_edits(request_number: int) -> None:
        if request_number == 2:  # items 1-4 are read by now; 2 is edited and leaves the run
            source.items[2] = T0 + timedelta(seconds=9)

    source.on_request = merchant_edits
    pull_changes("c", source, queue, Checkpoints(), page_size=2, overlap_s=0, now=NOW, time_left_s=PLENTY)

    assert set(queue.ids()) == set(range(1, 12))  # every item of the run; 2 also in its new place


def test_a_second_edit_in_the_same_second_is_enqueued_by_the_next_pass() -> None:
    source = ModifiedSource({1: T0, 2: T0 + timedelta(seconds=10)})
    checkpoints = Checkpoints()
    pull_changes("c", source, Queue(), checkpoints, page_size=5, overlap_s=60, now=NOW, time_left_s=PLENTY)
    # product 2 is edited again within the same second: same (id, date_modified), new content
    again = Queue()

    pull_changes("c", source, again, checkpoints, page_size=5, overlap_s=60, now=NOW, time_left_s=PLENTY)

    assert 2 in again.ids()


def test_a_checkpoint_is_written_after_every_page() -> None:
    source = ModifiedSource({i: T0 + timedelta(seconds=i) for i in range(1, 10)})
    checkpoints = Checkpoints()

    report = pull_changes(
        "c", source, Queue(), checkpoints, page_size=3, overlap_s=0, now=NOW, time_left_s=PLENTY
    )

    assert report.pages > 1
    assert checkpoints.writes == report.pages  # one per page; the last one marks the pass done


def test_an_interrupted_pull_resumes_with_the_next_page() -> None:
    source = ModifiedSource({i: T0 + timedelta(seconds=i) for i in range(1, 13)})
    checkpoints, first, second = Checkpoints(), Queue(), Queue()
    pages = iter([100.0, 100.0, 0.0])  # time for two pages, then short

    report = pull_changes(
        "c", source, first, checkpoints, page_size=3, overlap_s=0, now=NOW, time_left_s=lambda: next(pages)
    )
    pull_changes("c", source, second, checkpoints, page_size=3, overlap_s=0, now=NOW, time_left_s=PLENTY)

    assert not report.complete and report.pages == 2
    assert first.ids() == [1, 2, 3, 4, 5]  # page 2 re-reads the boundary item (the keyset is inclusive)
    assert second.ids() == [6, 7, 8, 9, 10, 11, 12]


def test_the_next_pass_starts_an_overlap_before_the_cursor_and_catches_late_commits() -> None:
    source = ModifiedSource({1: T0, 2: T0 + timedelta(seconds=10), 3: T0 + timedelta(seconds=20)})
    checkpoints = Checkpoints()
    pull_changes("c", source, Queue(), checkpoints, page_size=2, overlap_s=15, now=NOW, time_left_s=PLENTY)
    source.items[4] = T0 + timedelta(seconds=8)  # committed late, stamped before the cursor
    source.items[2] = T0 + timedelta(seconds=30)  # changed again
    again = Queue()

    pull_changes("c", source, again, checkpoints, page_size=2, overlap_s=15, now=NOW, time_left_s=PLENTY)

    assert sorted(again.ids()) == [2, 3, 4]  # the window (from 5 s) again: 3 is cheap to re-check
    assert source.requests[-1][1] is not None


# --- full sync: continuation, claims, errors ------------------------------------------------------------


def _full_sync(
    listing: Listing, progress: Progress, queue: Queue, snapshots: Snapshots, **kwargs: Any
) -> Any:
    args: dict[str, Any] = {"now": NOW, "time_left_s": PLENTY, **kwargs}
    return full_sync("c", [Sweep("product", listing, lambda: [])], snapshots, queue, progress, **args)


def test_a_full_sync_cut_short_continues_without_skipping_or_repeating_an_entity() -> None:
    listing = Listing({i: f"p{i}" for i in range(1, 11)}, page_size=3)
    progress, queue, snapshots = Progress(), Queue(), Snapshots()
    reports = [_full_sync(listing, progress, queue, snapshots, time_left_s=_one_page_at_a_time())]
    for _ in range(10):
        if reports[-1].complete:
            break
        last = reports[-1]
        reports.append(
            _full_sync(
                listing,
                progress,
                queue,
                snapshots,
                run_id=last.run_id,
                step=last.step,
                time_left_s=lambda: 0.0,
            )
        )

    assert [r.outcome for r in reports] == ["continue", "continue", "continue", "done"]
    assert queue.ids() == list(range(1, 11))
    record = progress.get("c", FULL_SYNC_JOB)
    assert record is not None
    assert (record["state"], record["pages"], record["seen"], record["changed"]) == ("done", 4, 10, 10)
    assert record["invocations"] == 4 and record["finished_at"]


def test_a_duplicate_continuation_does_nothing() -> None:
    listing = Listing({i: f"p{i}" for i in range(1, 7)}, page_size=2)
    progress, queue, snapshots = Progress(), Queue(), Snapshots()
    first = _full_sync(listing, progress, queue, snapshots, time_left_s=_one_page_at_a_time())
    second = _full_sync(
        listing, progress, queue, snapshots, run_id=first.run_id, step=first.step, time_left_s=lambda: 0.0
    )

    replayed = _full_sync(listing, progress, queue, snapshots, run_id=first.run_id, step=first.step)

    assert second.outcome == "continue"
    assert replayed.outcome == "skipped"
    assert queue.ids() == [1, 2, 3, 4]


def test_a_schedule_firing_during_a_run_leaves_it_alone_but_takes_over_an_abandoned_one() -> None:
    listing = Listing({i: f"p{i}" for i in range(1, 7)}, page_size=2)
    progress, queue, snapshots = Progress(), Queue(), Snapshots()
    _full_sync(listing, progress, queue, snapshots, time_left_s=_one_page_at_a_time())

    busy = _full_sync(listing, progress, queue, snapshots, now=NOW + timedelta(minutes=5))
    rescued = _full_sync(listing, progress, queue, snapshots, now=NOW + timedelta(hours=2))

    assert busy.outcome == "skipped"
    assert rescued.outcome == "done"
    assert queue.ids() == [1, 2, 3, 4, 5, 6]


def test_a_source_error_is_recorded_and_the_run_continues_from_its_checkpoint() -> None:
    listing = Listing({i: f"p{i}" for i in range(1, 7)}, page_size=2)
    listing.fail_on_page = 2
    progress, queue, snapshots = Progress(), Queue(), Snapshots()

    failed = _full_sync(listing, progress, queue, snapshots)
    resumed = _full_sync(listing, progress, queue, snapshots, run_id=failed.run_id, step=failed.step)

    assert (failed.outcome, failed.errors, failed.reason) == (
        "continue",
        1,
        "ConnectionError: source timed out",
    )
    assert resumed.outcome == "done"
    assert queue.ids() == [1, 2, 3, 4, 5, 6]


def test_a_second_full_sync_enqueues_only_changed_new_and_vanished_entities() -> None:
    listing = Listing({i: f"p{i}" for i in range(1, 21)}, page_size=6)
    progress, snapshots = Progress(), Snapshots()
    _full_sync(listing, progress, Queue(), snapshots)
    listing.products[3] = "renamed"
    listing.products[21] = "new"
    del listing.products[7]
    queue = Queue()

    report = _full_sync(listing, progress, queue, snapshots)

    assert report.outcome == "done"
    assert sorted(queue.ids()) == [3, 21]
    assert queue.ids("delete") == [7]


def test_entities_known_at_the_destination_but_gone_from_the_source_are_deleted() -> None:
    listing = Listing({1: "a", 2: "b"})
    queue = Queue()

    sweeps = [Sweep("product", listing, lambda: [1, 2, 9])]
    full_sync("c", sweeps, Snapshots(), queue, Progress(), now=NOW, time_left_s=PLENTY)

    assert queue.ids("delete") == [9]


def test_a_full_sync_sweeps_categories_and_brands_before_products_across_continuations() -> None:
    categories, brands = Listing({1: "Kitchen", 2: "Mugs", 3: "Seasonal"}, page_size=2), Listing({5: "Acme"})
    products = Listing({i: f"p{i}" for i in range(10, 14)}, page_size=2)
    sweeps = [
        Sweep("category", categories, lambda: [1, 2, 3, 4]),  # 4: deleted at the source, known at B
        Sweep("brand", brands, lambda: []),
        Sweep("product", products, lambda: []),
    ]
    progress, queue, snapshots = Progress(), Queue(), Snapshots()
    report = full_sync("c", sweeps, snapshots, queue, progress, now=NOW, time_left_s=lambda: 0.0)
    reports = [report]
    for _ in range(10):
        if report.complete:
            break
        report = full_sync(
            "c", sweeps, snapshots, queue, progress, now=NOW, time_left_s=lambda: 0.0,
            run_id=report.run_id, step=report.step,
        )  # fmt: skip
        reports.append(report)

    assert len(reports) == 5  # 2 category pages, 1 brand page, 2 product pages: a page per invocation
    sent = [(r.entity_type, r.entity_id, r.action) for r in queue.sent]
    assert sent == [
        ("category", 1, "upsert"), ("category", 2, "upsert"), ("category", 3, "upsert"),
        ("category", 4, "delete"), ("brand", 5, "upsert"),
        *[("product", i, "upsert") for i in range(10, 14)],
    ]  # fmt: skip
    record = progress.get("c", FULL_SYNC_JOB)
    assert record is not None
    assert (record["state"], record["pages"], record["seen"], record["changed"], record["deleted"]) == (
        "done", 5, 8, 8, 1,
    )  # fmt: skip
    assert record["entities"]["category"] == {"pages": 2, "seen": 3, "changed": 3, "deleted": 1}
    assert (report.seen, report.deleted) == (8, 1)


def test_listing_hash_ignores_counters_and_the_modification_stamp() -> None:
    a = {"id": 1, "name": "Mug", "view_count": 3, "date_modified": "2026-01-01T00:00:00+00:00"}
    b = {**a, "view_count": 99, "date_modified": "2026-02-01T00:00:00+00:00"}

    assert listing_hash(a) == listing_hash(b)
    assert listing_hash(a) != listing_hash({**a, "name": "Cup"})


def test_id_sets_round_trip_through_compact_ranges() -> None:
    ids = IdSet()
    for i in [5, 1, 2, 3, 9, 10]:
        ids.add(i)

    assert ids.ranges() == [[1, 3], [5, 5], [9, 10]]
    assert list(IdSet(ids.ranges())) == [1, 2, 3, 5, 9, 10]


# --- cleanup and replay ---------------------------------------------------------------------------------


class Events:
    def __init__(self, records: list[EventRecord]) -> None:
        self.records = {r.delivery_id: r for r in records}

    def by_status(self, status: Any, *, received_before_ms: int) -> Iterable[EventRecord]:
        return [
            r for r in self.records.values() if r.status == status and r.received_at_ms < received_before_ms
        ]

    def delete_if_status(self, connection: str, delivery_id: str, status: Any) -> bool:
        if self.records[delivery_id].status != status:
            return False
        del self.records[delivery_id]
        return True


def _event(delivery_id: str, status: Any, age_s: float, attempts: int = 0) -> EventRecord:
    return EventRecord(
        connection="c",
        delivery_id=delivery_id,
        status=status,
        scope="store/product/updated",
        received_at_ms=int((NOW.timestamp() - age_s) * 1000),
        entity_type="product",
        entity_id=int(delivery_id[1:]),
        action="upsert",
        attempts=attempts,
    )


@pytest.mark.parametrize("age_days", [1, 30, 365])
def test_cleanup_never_deletes_an_unprocessed_event(age_days: int) -> None:
    age = age_days * 86_400
    events = Events(
        [
            _event("r1", "received", age),
            _event("f2", "failed", age, attempts=5),
            _event("p3", "processed", age),
        ]
    )

    cleanup_events(
        events, Queue(), now_s=NOW.timestamp(), retention_s=7 * 86_400, stuck_after_s=900, time_left_s=PLENTY
    )

    assert {"r1", "f2"} <= set(events.records)
    assert ("p3" in events.records) == (age_days < 7)


def test_cleanup_reenqueues_stuck_events_and_reports_exhausted_failures() -> None:
    events = Events(
        [
            _event("r1", "received", 3600),
            _event("r2", "received", 60),  # still in flight
            _event("f3", "failed", 3600, attempts=5),
            _event("f4", "failed", 3600, attempts=2),
        ]
    )
    queue = Queue()

    report = cleanup_events(
        events, queue, now_s=NOW.timestamp(), retention_s=86_400, stuck_after_s=900, time_left_s=PLENTY
    )

    assert [(r.entity_id, r.delivery_id, r.origin) for r in queue.sent] == [(1, "r1", "sweeper")]
    assert (report.requeued, report.failed, report.failed_exhausted) == (1, 2, 1)
    assert report.exhausted_ids == ["c/f3"]


def test_replay_makes_one_request_per_entity_with_its_latest_action() -> None:
    older = _event("e1", "processed", 600)
    newer = EventRecord(
        **{
            **older.__dict__,
            "delivery_id": "e9",
            "received_at_ms": older.received_at_ms + 1,
            "action": "delete",
        }
    )

    [request] = replay_requests([newer, older])

    assert (request.entity_id, request.action, request.origin, request.delivery_id) == (
        1,
        "delete",
        "replay",
        "e9",
    )


def test_a_listed_entity_whose_destination_holds_a_tombstone_is_enqueued_though_unchanged() -> None:
    listing, snapshots = Listing({1: "a", 2: "b", 3: "c"}), Snapshots()
    sweeps = [Sweep("product", listing, lambda: [1, 3], lambda: [2])]
    full_sync("c", sweeps, snapshots, Queue(), Progress(), now=NOW, time_left_s=PLENTY)
    queue = Queue()

    full_sync("c", sweeps, snapshots, queue, Progress(), now=NOW, time_left_s=PLENTY, restart=True)

    assert queue.ids() == [2]  # soft-deleted at the destination after a transient 404: restore it


def test_two_first_ever_full_syncs_cannot_both_claim_the_run() -> None:
    from moto import mock_aws

    from catalog_sync.store.progress import ProgressStore
    from tests.unit.test_engine_rig import TABLE, make_state_table

    class RacingProgress(ProgressStore):
        """Both schedules read "no run yet" before either writes its claim."""

        rival: Callable[[], Any] | None = None

        def get(self, connection: str, job: str) -> dict[str, Any] | None:
            seen = super().get(connection, job)
            if self.rival is not None:
                rival, self.rival = self.rival, None
                rival()
            return seen

    with mock_aws():
        progress = RacingProgress(TABLE, make_state_table())
        queues = [Queue(), Queue()]
        listing = Listing({1: "a", 2: "b"})
        progress.rival = lambda: _full_sync(listing, progress, queues[1], Snapshots())

        first = _full_sync(listing, progress, queues[0], Snapshots())

    assert (first.outcome, first.reason) == ("skipped", "claimed by another")
    assert queues[0].ids() == [] and queues[1].ids() == [1, 2]
