"""MedusaClient's two-way side against the Medusa simulator: one product's state as it flows back to Pixlpay,
a write of just those fields, and the cursor pull on updated_at - every product changed after the cursor
read exactly once, in (updated_at, id) order, however long a run of equal timestamps is and whatever is
edited while the pull pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.medusa import (
    MedusaClient,
    MedusaNoVariant,
    MedusaProductNotFound,
    MedusaWriteInvalid,
)
from catalog_sync.connectors.medusa_changes import MedusaProductState, UpdatedAtCursor
from catalog_sync_local.simulators.medusa.store import MedusaStore
from tests.contract.medusa.api_facts import Api


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 0.001) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def medusa(clock: Clock) -> Iterator[MedusaStore]:
    with MedusaStore("sk_two_way", clock=clock) as running:
        yield running


@pytest.fixture
def api(medusa: MedusaStore) -> Api:
    return Api(medusa.api_url, "sk_two_way", lambda: "")


@pytest.fixture
def client(medusa: MedusaStore) -> MedusaClient:
    endpoint = {"kind": "medusa", "api_url": medusa.api_url, "api_key": "sk_two_way", "currency_code": "eur"}
    return MedusaClient.for_endpoint(
        MedusaEndpoint.model_validate({**endpoint, "max_requests_per_second": 0})
    )


def product(api: Api, **more: Any) -> dict[str, Any]:
    prices = [{"amount": 5, "currency_code": "eur"}, {"amount": 6, "currency_code": "usd"}]
    variant = {"title": "One", "sku": uuid.uuid4().hex, "manage_inventory": False, "options": {"Size": "One"}}
    return api.new_product(variants=[{**variant, "prices": prices}], **more)


def requests_of(medusa: MedusaStore, method: str) -> list[str]:
    return [r.path for r in medusa.request_log if r.method == method]


# --- one product's state and a write of it -------------------------------------------------------------


def test_the_state_has_the_fields_two_way_needs(api: Api, client: MedusaClient) -> None:
    made = product(api, external_id="pixlpay_12", description="<p>d</p>")
    state = client.get_product_state(made["id"])
    moment = datetime(2026, 11, 30, 0, 53, 20, tzinfo=UTC)
    assert state == MedusaProductState(
        id=made["id"],
        title="Fact",
        description="<p>d</p>",
        status="published",
        price=5.0,  # the connection's currency (eur), not usd
        external_id="pixlpay_12",
        updated_at=moment,
        variant_id=made["variants"][0]["id"],
        modified_at=moment,
    )


def test_a_missing_product_has_no_state(client: MedusaClient) -> None:
    assert client.get_product_state("prod_missing") is None


def test_a_price_edit_moves_modified_at_but_not_updated_at(
    api: Api, client: MedusaClient, clock: Clock
) -> None:
    made = product(api)
    clock.tick(5)
    client.update_product_fields(made["id"], {"price": 7})
    state = client.get_product_state(made["id"])
    assert state is not None and state.price == 7.0
    assert state.updated_at == datetime(2026, 11, 30, 0, 53, 20, tzinfo=UTC)
    assert state.modified_at == datetime(2026, 11, 30, 0, 53, 25, tzinfo=UTC)


def test_a_write_of_the_text_fields_is_one_post_to_the_product(
    api: Api, client: MedusaClient, medusa: MedusaStore
) -> None:
    made = product(api)
    state = client.update_product_fields(
        made["id"], {"title": "VIP+", "description": "new", "status": "draft"}
    )
    assert (state.title, state.description, state.status, state.price) == ("VIP+", "new", "draft", 5.0)
    assert requests_of(medusa, "POST")[1:] == [f"/admin/products/{made['id']}"]


def test_a_price_write_changes_the_connections_currency_and_keeps_the_others(
    api: Api, client: MedusaClient, medusa: MedusaStore
) -> None:
    made = product(api)
    assert client.update_product_fields(made["id"], {"price": 12.5}).price == 12.5
    [variant] = medusa.products()[0]["variants"]
    assert sorted((p["currency_code"], p["amount"]) for p in variant["prices"]) == [("eur", 12.5), ("usd", 6)]
    assert requests_of(medusa, "POST")[1:] == [f"/admin/products/{made['id']}/variants/{variant['id']}"]


def test_a_description_of_none_reads_back_empty(api: Api, client: MedusaClient) -> None:
    made = product(api, description="old")
    assert client.update_product_fields(made["id"], {"description": None}).description == ""


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({}, "at least one"),
        ({"handle": "x"}, "handle"),
        ({"title": " "}, "title"),
        ({"title": 3}, "title"),
        ({"description": 3}, "description"),
        ({"status": "hidden"}, "status"),
        ({"price": -1}, "price"),
        ({"price": "5"}, "price"),
        ({"price": float("inf")}, "price"),
        ({"price": True}, "price"),
    ],
)
def test_a_bad_write_is_refused_before_anything_is_sent(
    api: Api, client: MedusaClient, medusa: MedusaStore, fields: dict[str, Any], named: str
) -> None:
    made = product(api)
    with pytest.raises(MedusaWriteInvalid, match=named):
        client.update_product_fields(made["id"], fields)
    assert requests_of(medusa, "POST") == ["/admin/products"]  # the create only


def test_a_write_to_a_missing_product_is_not_found(client: MedusaClient) -> None:
    with pytest.raises(MedusaProductNotFound):
        client.update_product_fields("prod_missing", {"title": "x"})
    with pytest.raises(MedusaProductNotFound):
        client.update_product_fields("prod_missing", {"price": 1})


def test_a_price_for_a_product_without_a_variant_is_refused(api: Api, client: MedusaClient) -> None:
    made = api.new_product(variants=[])
    with pytest.raises(MedusaNoVariant):
        client.update_product_fields(made["id"], {"price": 1})


# --- the cursor pull -----------------------------------------------------------------------------------


Pulled = tuple[list[MedusaProductState], UpdatedAtCursor | None]


def pull(client: MedusaClient, since: UpdatedAtCursor | None, limit: int, max_calls: int = 100) -> Pulled:
    """Every page until the pull says there is no more (bounded), as the hourly pull would."""
    read: list[MedusaProductState] = []
    for _ in range(max_calls):
        page = client.changed_products(since, limit=limit)
        read += page.products
        since = page.cursor
        if not page.more:
            return read, since
    raise AssertionError(f"no end after {max_calls} pages")


def order_key(state: MedusaProductState) -> tuple[datetime, str]:
    return (state.updated_at, state.id)


def test_an_empty_store_has_nothing_changed(client: MedusaClient) -> None:
    page = client.changed_products(None)
    assert (page.products, page.cursor, page.more) == ([], None, False)


@pytest.mark.parametrize("limit", [2, 3, 50])
def test_every_product_is_read_once_in_updated_at_then_id_order(
    api: Api, client: MedusaClient, clock: Clock, limit: int
) -> None:
    for burst in (1, 4, 1, 3, 1):  # runs of equal timestamps (a batch write gives its products one time)
        for _ in range(burst):
            product(api)
        clock.tick()
    read, cursor = pull(client, None, limit)
    assert [s.id for s in read] == sorted(s.id for s in read)[:0] + [
        s.id for s in sorted(read, key=order_key)
    ]
    assert len({s.id for s in read}) == len(read) == 10
    assert cursor == UpdatedAtCursor(read[-1].updated_at)
    assert pull(client, cursor, limit) == ([], cursor)  # nothing new


def test_a_run_of_ties_longer_than_a_page_is_read_by_id(api: Api, client: MedusaClient) -> None:
    made = sorted(product(api)["id"] for _ in range(7))  # one frozen millisecond
    pages = []
    since: UpdatedAtCursor | None = None
    for _ in range(10):
        page = client.changed_products(since, limit=3)
        pages.append([s.id for s in page.products])
        since = page.cursor
        if not page.more:
            break
    assert pages == [made[:3], made[3:6], made[6:], []]


def test_later_edits_are_found_after_the_cursor(api: Api, client: MedusaClient, clock: Clock) -> None:
    first = product(api)
    _, cursor = pull(client, None, 2)
    clock.tick()
    client.update_product_fields(first["id"], {"title": "Edited"})
    later = product(api)
    read, _ = pull(client, cursor, 2)
    assert {s.id: s.title for s in read} == {first["id"]: "Edited", later["id"]: "Fact"}
    assert read == sorted(read, key=order_key)


def test_products_edited_out_of_a_run_while_it_is_read_are_neither_lost_nor_stuck(
    api: Api, client: MedusaClient, clock: Clock
) -> None:
    made = sorted(product(api)["id"] for _ in range(8))  # one run
    clock.tick()
    page = client.changed_products(None, limit=3)
    assert [s.id for s in page.products] == made[:3]
    for pid in made[:2]:  # two already read leave the run: the rest shift back by two
        client.update_product_fields(pid, {"title": "moved"})
    read, _ = pull(client, page.cursor, 3)
    assert [s.id for s in read] == made[3:] + made[:2]  # the rest of the run, then the two at their new time


def test_a_full_page_leaves_its_last_timestamp_for_the_next_call(
    api: Api, client: MedusaClient, clock: Clock
) -> None:
    lone = product(api)["id"]
    clock.tick()
    run = sorted(product(api)["id"] for _ in range(3))
    page = client.changed_products(None, limit=3)  # lone + 2 of the run: the run is cut, so it waits
    assert [s.id for s in page.products] == [lone] and page.more
    rest = client.changed_products(page.cursor, limit=3)
    assert [s.id for s in rest.products] == run


def test_a_limit_below_two_is_refused(client: MedusaClient) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        client.changed_products(None, limit=1)
