"""Two-way BigCommerce <-> BigCommerce (issue 12): both sides' edits survive, conflicts follow the rule and
are recorded, `manual` holds a field until resolved, and our own writes coming back write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from catalog_sync.connections import Connection, Signing
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.engine import CatalogSync
from catalog_sync.errors import RetriableError
from catalog_sync.store.conflicts import ConflictStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync.two_way_sync import Resolution, TwoWaySync
from catalog_sync.two_way_wiring import two_way_engine
from tests.unit.test_engine_rig import CONNECTION, TABLE, Rig, endpoint, rig


@pytest.fixture
def r() -> Iterator[Rig]:
    yield from rig()


def connection(r: Rig, **rules: Any) -> Connection:
    return Connection(
        name=CONNECTION,
        source=endpoint(r.a, "token-a"),
        destination=endpoint(r.b, "token-b"),
        signing=Signing(secrets=[SecretStr("whsec_dGVzdA==")]),
        direction="two-way",
        field_rules=rules,
    )


def engine(r: Rig, **rules: Any) -> TwoWaySync:
    conn = connection(r, **rules)
    clients = []
    for ep in (conn.source, conn.destination):
        client = BigCommerceClient.for_endpoint(ep)  # type: ignore[arg-type]
        client.http.backoff_base_s = 0.001
        client.http.sleep = lambda s: None
        clients.append(client)
    forward = CatalogSync(
        conn,
        clients[0],
        clients[1],
        r.state,
        owner="w1",
        changes=r.changes,
        merged_fields=frozenset(conn.merge_rules()),
    )
    return two_way_engine(
        conn, forward, clients[0], clients[1], r.state, conflicts(r), owner="w1", changes=r.changes
    )


def conflicts(r: Rig) -> ConflictStore:
    return ConflictStore(TABLE, r.dynamodb, clock=r.clock)


def from_a(product_id: int) -> SyncRequest:
    return SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)


def from_b(product_id: int) -> SyncRequest:
    return SyncRequest(
        connection=CONNECTION, entity_type="product", entity_id=0, side="destination", dest_id=str(product_id)
    )


def writes(r: Rig, store: str, since: int) -> int:
    log = (r.a if store == "a" else r.b).request_log[since:]
    return sum(1 for req in log if req.method in ("POST", "PUT", "DELETE"))


def paired(r: Rig, e: TwoWaySync, **fields: Any) -> tuple[int, int]:
    """A product created at A and synced: its ids at A and B."""
    a_id = int(
        r.a.create_product({"sku": "MUG", "name": "Mug", "price": 10, "description": "d", **fields})["id"]
    )
    e.sync(from_a(a_id))
    b_id = int(r.b_product("MUG")["id"])
    r.clock.tick()
    return a_id, b_id


def test_a_rename_at_a_and_a_reprice_at_b_both_reach_both_sides(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, name="Big mug")
    r.clock.tick()
    r.b.update_product(b_id, price=12)
    r.clock.tick()
    e.sync(from_a(a_id))
    for store, pid in ((r.a, a_id), (r.b, b_id)):
        product = store.get_product(pid)
        assert product is not None
        assert (product["name"], product["price"]) == ("Big mug", 12)
    assert conflicts(r).list(CONNECTION, include_settled=True) == []


def test_a_two_way_sync_covers_no_earlier_request(r: Rig) -> None:
    """Its forward sync and its merge read the source under two leases: no commit of it may claim that
    one lease saw everything (`synced_from`), or a request queued between them would be acknowledged as
    covered by the consumer if the connection became one-way."""
    e = engine(r)
    a_id, _ = paired(r, e)
    r.a.update_product(a_id, name="Big mug")
    e.sync(from_a(a_id))

    assert not e.covers_earlier_requests and not e.forward.covers_earlier_requests
    state = r.state.get(CONNECTION, "product", a_id)
    assert state is not None and state.last_outcome and state.synced_from is None


def test_our_writes_coming_back_as_webhooks_write_nothing_more(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, name="Big mug")
    r.b.update_product(b_id, price=12)
    e.sync(from_a(a_id))
    marks = (len(r.a.request_log), len(r.b.request_log))
    for _ in range(3):  # each side's webhook for our write, redelivered
        assert e.sync(from_b(b_id)).action == "echo"
        assert e.sync(from_a(a_id)).action in ("echo", "unchanged")
    assert (writes(r, "a", marks[0]), writes(r, "b", marks[1])) == (0, 0)


def test_one_edit_causes_exactly_one_write_to_the_other_side(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    marks = (len(r.a.request_log), len(r.b.request_log))
    r.b.update_product(b_id, description="new words")
    for _ in range(3):  # duplicated deliveries of that one edit
        e.sync(from_b(b_id))
    e.sync(from_a(a_id))  # and the echo of our write at A
    assert (writes(r, "a", marks[0]), writes(r, "b", marks[1])) == (1, 0)
    assert r.a.get_product(a_id)["description"] == "new words"  # type: ignore[index]


def test_both_sides_repricing_is_a_conflict_the_source_rule_decides_and_records(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, price=11)
    r.clock.tick()
    r.b.update_product(b_id, price=13)
    e.sync(from_b(b_id))
    assert r.a.get_product(a_id)["price"] == r.b.get_product(b_id)["price"] == 11  # type: ignore[index]
    [conflict] = conflicts(r).list(CONNECTION, include_settled=True)
    assert (conflict.field, conflict.base, conflict.source_value, conflict.destination_value) == (
        "price",
        10.0,
        11.0,
        13.0,
    )
    assert (conflict.rule, conflict.outcome, conflict.status) == ("source", "source", "settled")
    assert conflicts(r).count_open(CONNECTION) == 0


def test_with_manual_the_field_is_held_until_resolved(r: Rig) -> None:
    e = engine(r, price="manual")
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, price=11, name="Renamed")
    r.b.update_product(b_id, price=13)
    e.sync(from_a(a_id))
    assert r.a.get_product(a_id)["price"] == 11 and r.b.get_product(b_id)["price"] == 13  # type: ignore[index]
    assert r.b.get_product(b_id)["name"] == "Renamed"  # type: ignore[index]  # the other field still flows
    [held] = conflicts(r).list(CONNECTION)
    assert (held.conflict_id, held.status, held.outcome) == (f"product/{a_id}/price", "open", "held")
    e.sync(from_b(b_id))  # still held: nobody decided
    assert r.a.get_product(a_id)["price"] == 11  # type: ignore[index]
    assert e.resolve(a_id, "price", take="destination") == Resolution(13, ("source.price",))
    assert r.a.get_product(a_id)["price"] == r.b.get_product(b_id)["price"] == 13  # type: ignore[index]
    assert conflicts(r).count_open(CONNECTION) == 0
    [resolved] = conflicts(r).list(CONNECTION, include_settled=True)
    assert (resolved.status, resolved.outcome, resolved.resolution) == ("resolved", "destination", 13)
    marks = (len(r.a.request_log), len(r.b.request_log))
    e.sync(from_a(a_id))
    e.sync(from_b(b_id))
    assert (writes(r, "a", marks[0]), writes(r, "b", marks[1])) == (0, 0)


def test_a_product_created_at_the_destination_is_created_at_the_source_and_paired(r: Rig) -> None:
    e = engine(r)
    b_id = int(r.b.create_product({"sku": "NEW", "name": "Made at B", "price": 5})["id"])
    outcome = e.sync(from_b(b_id))
    assert outcome.action == "created"
    [a_product] = [p for p in r.a.products() if p["sku"] == "NEW"]
    assert (a_product["name"], a_product["price"], a_product["is_visible"]) == ("Made at B", 5, True)
    assert len([p for p in r.b.products() if p["sku"] == "NEW"]) == 1  # adopted, not duplicated
    r.clock.tick()
    r.a.update_product(int(a_product["id"]), name="Renamed at A")
    e.sync(from_a(int(a_product["id"])))
    assert r.b.get_product(b_id)["name"] == "Renamed at A"  # type: ignore[index]


def test_non_merged_parts_still_flow_from_the_source(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, weight=3)
    r.b.update_product(b_id, name="B's name")
    r.clock.tick()
    e.sync(from_a(a_id))
    b = r.b.get_product(b_id)
    assert b is not None and (b["weight"], b["name"]) == (3, "B's name")
    assert r.a.get_product(a_id)["name"] == "B's name"  # type: ignore[index]


def test_a_merge_cut_short_after_writing_the_destination_keeps_that_side_s_later_edit(r: Rig) -> None:
    """The merge writes B (A's new price), then its write to A (B's new name) fails for good: B holds
    A's price, so that price is what was last synced. B's next price edit is B's alone, and survives."""
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, price=11)
    r.b.update_product(b_id, name="B's name")
    r.clock.tick()
    r.a.fail_next("PUT", rf"^/catalog/products/{a_id}$", status=503, times=6)  # every attempt
    with pytest.raises(RetriableError):
        e.sync(from_b(b_id))  # B's webhook: B is written first (a source-side merge writes A first)
    assert r.b.get_product(b_id)["price"] == 11  # type: ignore[index]
    r.clock.tick()
    r.b.update_product(b_id, price=13)
    r.clock.tick()
    e.sync(from_b(b_id))
    for store, pid in ((r.a, a_id), (r.b, b_id)):
        product = store.get_product(pid)
        assert product is not None
        assert (product["price"], product["name"]) == (13, "B's name")
    assert conflicts(r).list(CONNECTION, include_settled=True) == []


def test_one_save_at_a_of_a_merged_and_a_one_way_field_is_one_write_at_b(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, name="Big mug", weight=3)  # name is merged, weight flows one way
    marks = (len(r.a.request_log), len(r.b.request_log))
    e.sync(from_a(a_id))
    assert (writes(r, "a", marks[0]), writes(r, "b", marks[1])) == (0, 1)
    b = r.b.get_product(b_id)
    assert b is not None and (b["name"], b["weight"]) == ("Big mug", 3)
    marks = (len(r.a.request_log), len(r.b.request_log))
    assert e.sync(from_b(b_id)).action == "echo"
    assert e.sync(from_a(a_id)).action in ("echo", "unchanged")
    assert (writes(r, "a", marks[0]), writes(r, "b", marks[1])) == (0, 0)


def test_a_failed_carried_write_at_b_is_written_by_the_retry(r: Rig) -> None:
    e = engine(r)
    a_id, b_id = paired(r, e)
    r.a.update_product(a_id, name="Big mug", weight=3)
    r.b.fail_next("PUT", rf"^/catalog/products/{b_id}$", status=503, times=6)
    with pytest.raises(RetriableError):
        e.sync(from_a(a_id))
    e.sync(from_a(a_id))
    b = r.b.get_product(b_id)
    assert b is not None and (b["name"], b["weight"]) == ("Big mug", 3)
    assert conflicts(r).list(CONNECTION, include_settled=True) == []


class LeaseLog:
    """The real state store, noting the lease each acquire asks for (connection, seconds)."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self.asked: list[tuple[str, float]] = []

    def acquire(self, connection: str, *args: Any, lease_s: float, **kwargs: Any) -> Any:
        self.asked.append((connection, lease_s))
        return self._state.acquire(connection, *args, lease_s=lease_s, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


def test_a_create_at_the_source_holds_leases_as_long_as_configured(r: Rig) -> None:
    """SYNC_LEASE_SECONDS is the lease of every sync, the reverse create's included: a shorter one would
    let another worker in mid-write, a longer one keep a dead worker's product locked for longer."""
    conn = connection(r)
    leases = LeaseLog(r.state)
    a, b = (BigCommerceClient.for_endpoint(ep) for ep in (conn.source, conn.destination))  # type: ignore[arg-type]
    forward = CatalogSync(
        conn, a, b, leases, owner="w1", lease_s=30, merged_fields=frozenset(conn.merge_rules())
    )  # type: ignore[arg-type]
    e = two_way_engine(conn, forward, a, b, leases, conflicts(r), owner="w1", lease_s=30)
    b_id = int(r.b.create_product({"sku": "NEW", "name": "Made at B", "price": 5})["id"])

    assert e.sync(from_b(b_id)).action == "created"
    assert {connection for connection, _ in leases.asked} == {CONNECTION, f"{CONNECTION}~reverse"}
    assert {seconds for _, seconds in leases.asked} == {30}
