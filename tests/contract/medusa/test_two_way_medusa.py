"""MedusaClient's two-way side against a real Medusa 2.x: one product's state, a write of just those fields,
and the cursor pull over a real run of ties (a batch write gives its products one updated_at, mostly, and
`order=updated_at` returns them in no id order)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from pydantic import SecretStr

from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.medusa import MedusaClient
from catalog_sync.connectors.medusa_changes import UpdatedAtCursor
from tests.contract.medusa.api_facts import Api


@pytest.fixture(scope="module")
def client(medusa_api: Api) -> MedusaClient:
    endpoint = MedusaEndpoint(
        kind="medusa",
        api_url=medusa_api.url,
        api_key=SecretStr(medusa_api.secret_key),
        currency_code="eur",
        max_requests_per_second=0,
    )
    return MedusaClient.for_endpoint(endpoint)


def variant(amount: float) -> dict[str, Any]:
    prices = [{"amount": amount, "currency_code": "eur"}, {"amount": amount + 1, "currency_code": "usd"}]
    base = {"title": "One", "sku": uuid.uuid4().hex, "manage_inventory": False, "options": {"Size": "One"}}
    return {**base, "prices": prices}


def test_state_and_a_write_of_the_two_way_fields(medusa_api: Api, client: MedusaClient) -> None:
    made = medusa_api.new_product(external_id=f"pixlpay_{uuid.uuid4().hex[:8]}", variants=[variant(5)])
    state = client.get_product_state(made["id"])
    assert state is not None
    assert (state.title, state.status, state.price, state.external_id) == (
        "Fact",
        "published",
        5.0,
        made["external_id"],
    )
    written = client.update_product_fields(
        made["id"], {"title": "Two-way", "description": "<p>back</p>", "status": "draft", "price": 12.5}
    )
    assert (written.title, written.description, written.status, written.price) == (
        "Two-way",
        "<p>back</p>",
        "draft",
        12.5,
    )
    assert written.updated_at > state.updated_at and written.modified_at >= written.updated_at
    fields = "id,*variants,*variants.prices"
    [held] = medusa_api.ok(medusa_api.get(f"/admin/products/{made['id']}", fields=fields))["product"][
        "variants"
    ]
    assert sorted((p["currency_code"], p["amount"]) for p in held["prices"]) == [("eur", 12.5), ("usd", 6)]
    assert client.get_product_state("prod_missing") is None


def test_the_cursor_pull_reads_a_batch_of_ties_once_each_in_id_order(
    medusa_api: Api, client: MedusaClient
) -> None:
    marker, created = batch_with_a_long_run_of_ties(medusa_api, longer_than=PAGE)
    moment, run = longest_run(created)
    query: dict[str, Any] = {"updated_at[$eq]": moment, "order": "updated_at", "fields": "id"}
    assert (
        sorted(p["id"] for p in medusa_api.ok(medusa_api.get("/admin/products", **query))["products"]) == run
    )

    since: UpdatedAtCursor | None = UpdatedAtCursor(updated_at_of(client, marker["id"]))
    read: list[str] = []
    for _ in range(20):
        page = client.changed_products(since, limit=PAGE)
        read += [s.id for s in page.products]
        since = page.cursor
        if not page.more:
            break
    # each once, in (updated_at, id) order, and nothing else changed since the marker
    assert read == [p["id"] for p in sorted(created, key=lambda p: (p["updated_at"], p["id"]))]


PAGE = 3


def batch_with_a_long_run_of_ties(medusa_api: Api, longer_than: int) -> tuple[dict[str, Any], list[Any]]:
    """A marker product, then a batch create after it. Medusa stamps a batch with its clock as it writes,
    so the batch usually shares one updated_at but may straddle a millisecond; a batch whose longest
    run of ties is not longer than a page is made again (after a new marker), at most three times."""
    options = [{"title": "Size", "values": ["One"]}]
    for _ in range(3):
        marker = medusa_api.new_product()
        tag = uuid.uuid4().hex[:8]  # Medusa derives a unique handle from the title
        bodies = [
            {"title": f"Tie {n} {tag}", "options": options, "variants": [variant(n)]} for n in range(10)
        ]
        created = medusa_api.ok(medusa_api.post("/admin/products/batch", {"create": bodies}))["created"]
        if len(longest_run(created)[1]) > longer_than:
            return marker, created
    pytest.fail(f"three batch creates of 10 products had no run of more than {longer_than} ties")


def longest_run(products: list[Any]) -> tuple[str, list[str]]:
    runs: dict[str, list[str]] = {}
    for p in products:
        runs.setdefault(p["updated_at"], []).append(p["id"])
    moment = max(runs, key=lambda m: len(runs[m]))
    return moment, sorted(runs[moment])


def updated_at_of(client: MedusaClient, product_id: str) -> datetime:
    state = client.get_product_state(product_id)
    assert state is not None
    return state.updated_at
