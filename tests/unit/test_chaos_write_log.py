"""`make chaos` judges "no older version over a newer one" from store B's write log: every product write
B applies, whatever request made it — a single PUT, a batch PUT — in the order B applied them."""

from __future__ import annotations

import requests

from bench.chaos_observe import WriteLog
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

TOKEN = "token-b"


def batch_put(store: BigCommerceStore, *products: dict[str, object]) -> None:
    answer = requests.put(
        f"{store.v3_base}/catalog/products", json=list(products), headers={"X-Auth-Token": TOKEN}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def test_writes_made_by_a_batch_put_are_in_the_products_trail_and_judged_for_staleness() -> None:
    with BigCommerceStore("storeb", TOKEN) as b:
        writes = WriteLog()
        writes.attach(b)
        first = b.create_product(name="Chaos 1 v1", sku="CH-1", is_visible=False)
        other = b.create_product(name="Chaos 2 v1", sku="CH-2")

        batch_put(
            b, {"id": first["id"], "name": "Chaos 1 v3", "is_visible": True}, {"id": other["id"], "price": 2}
        )
        batch_put(b, {"id": first["id"], "name": "Chaos 1 v2"})
        b.delete_product(other["id"])

    assert writes.trail[first["id"]] == [
        "created Chaos 1 v1 hidden available",
        "updated Chaos 1 v3 visible available",
        "updated Chaos 1 v2 visible available",
    ]
    assert writes.trail[other["id"]][-1] == "deleted"
    assert writes.stale == ["CH-1: v2 written after v3"]
    assert ("CH-2", 1) in writes.writes
