"""The BigCommerce client reports a batch product update per item, whether the store answers 207 with
`batch_errors` or refuses the whole batch with one error naming the items by index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from catalog_sync.connections import BigCommerceEndpoint
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore


@pytest.fixture
def store() -> Iterator[BigCommerceStore]:
    with BigCommerceStore("storeb", "token-b", quota=10_000) as running:
        yield running


def client(store: BigCommerceStore) -> BigCommerceClient:
    endpoint = BigCommerceEndpoint(
        store_hash="storeb", access_token=SecretStr("token-b"), api_url=store.api_url
    )
    return BigCommerceClient.for_endpoint(endpoint)


def test_a_batch_none_of_which_landed_is_reported_item_by_item(store: BigCommerceStore) -> None:
    a = store.create_product(name="A", sku="A-1", price=1)["id"]
    store.create_product(name="C", sku="C-1", price=1)
    gone = store.create_product(name="B", sku="B-1", price=1)["id"]
    store.delete_product(gone)

    result = client(store).update_products([{"id": a, "name": "C"}, {"id": gone, "price": 2}])

    assert result.updated == {}
    assert sorted(result.failed) == sorted([a, gone])
    assert result.statuses[a] == 409  # the batch's status; each item named by its own indexed error
    assert "name" in result.failed[a] and "not found" in result.failed[gone]
    assert "not found" not in result.failed[a]  # its own error, not the whole body


def test_a_batch_refused_whole_without_item_errors_is_halved_so_what_it_did_not_name_lands(
    store: BigCommerceStore,
) -> None:
    ids = [store.create_product(name=n, sku=n, price=1)["id"] for n in ("A", "B")]
    store.fail_next("PUT", r"^/catalog/products$", status=422)  # names no item
    mark = len(store.request_log)

    result = client(store).update_products([{"id": i, "price": 2} for i in ids])

    assert sorted(result.updated) == sorted(ids) and result.failed == {}
    assert {p["price"] for p in store.products()} == {2}
    assert [m for m, p, _ in store.request_log[mark:]] == ["PUT"] * 3  # the batch, then each half
