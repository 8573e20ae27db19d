"""MedusaClient's two-way side against a real Medusa 2.x: one product's state, a write of just those fields,
and the cursor pull over a real run of ties (a batch write gives its products one updated_at, and
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
    marker = medusa_api.new_product()
    options = [{"title": "Size", "values": ["One"]}]
    bodies = [{"title": f"Tie {n}", "options": options, "variants": [variant(n)]} for n in range(7)]
    created = medusa_api.ok(medusa_api.post("/admin/products/batch", {"create": bodies}))["created"]
    assert len({p["updated_at"] for p in created}) == 1  # one timestamp for the whole batch: a run of ties
    batch = sorted(p["id"] for p in created)
    run = {"updated_at[$eq]": created[0]["updated_at"], "order": "updated_at", "fields": "id"}
    assert (
        sorted(p["id"] for p in medusa_api.ok(medusa_api.get("/admin/products", **run))["products"]) == batch
    )

    since: UpdatedAtCursor | None = UpdatedAtCursor(updated_at_of(client, marker["id"]))
    read: list[str] = []
    for _ in range(20):
        page = client.changed_products(since, limit=3)
        read += [s.id for s in page.products]
        since = page.cursor
        if not page.more:
            break
    assert read == batch  # each once, in (updated_at, id) order, and nothing else changed since the marker


def updated_at_of(client: MedusaClient, product_id: str) -> datetime:
    state = client.get_product_state(product_id)
    assert state is not None
    return state.updated_at
