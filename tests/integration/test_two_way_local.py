"""Issue 12, locally: the two-way connection `store-c-and-d` between simulated stores storec and stored,
through the whole stack (both stores' webhooks -> receiver -> queue -> consumer)."""

from __future__ import annotations

from typing import Any

from catalog_sync_local.sandbox import Sandbox

CONNECTION = "store-c-and-d"


def _writes(store: Any, since: int) -> int:
    return sum(
        1 for m, p, _ in store.request_log[since:] if m in ("POST", "PUT") and "/catalog/products" in p
    )


def test_a_name_edited_in_c_and_a_price_edited_in_d_both_reach_both_stores(hooked_sandbox: Sandbox) -> None:
    box = hooked_sandbox
    c, d = box.source_store(CONNECTION), box.destination_store(CONNECTION)
    created = c.create_product(
        {"name": "Lamp", "type": "physical", "sku": "LAMP-1", "price": 40, "weight": 2}
    )
    box.settle()
    [copy] = [p for p in d.products() if p["sku"] == "LAMP-1"]

    c.update_product(created["id"], name="Desk lamp")
    d.update_product(copy["id"], price=45)
    box.settle()

    for store, pid in ((c, created["id"]), (d, copy["id"])):
        product = store.get_product(pid)
        assert product is not None and (product["name"], product["price"]) == ("Desk lamp", 45)
    marks = (len(c.request_log), len(d.request_log))
    box.settle()  # every echo has come back: nothing more is written
    assert (_writes(c, marks[0]), _writes(d, marks[1])) == (0, 0)


def test_a_product_created_in_d_appears_in_c(hooked_sandbox: Sandbox) -> None:
    box = hooked_sandbox
    c, d = box.source_store(CONNECTION), box.destination_store(CONNECTION)
    d.create_product({"name": "Made in D", "type": "physical", "sku": "D-1", "price": 3, "weight": 1})
    box.settle()
    assert [p["name"] for p in c.products() if p["sku"] == "D-1"] == ["Made in D"]
    assert len([p for p in d.products() if p["sku"] == "D-1"]) == 1


def test_the_hourly_pull_brings_an_edit_at_d_whose_webhook_was_lost_to_c(sandbox: Sandbox) -> None:
    c, d = sandbox.source_store(CONNECTION), sandbox.destination_store(CONNECTION)  # no webhooks registered
    created = c.create_product({"name": "Vase", "type": "physical", "sku": "VASE-1", "price": 9, "weight": 1})
    sandbox.runtime.invoke("PullSyncFunction", {"connection": CONNECTION})
    sandbox.settle()
    [copy] = [p for p in d.products() if p["sku"] == "VASE-1"]

    d.update_product(copy["id"], description="Hand-made", price=11)
    result = sandbox.runtime.invoke("PullSyncFunction", {"connection": CONNECTION})
    sandbox.settle()

    assert [r["mode"] for r in result["connections"]] == ["cursor", "cursor@destination"]
    vase = c.get_product(created["id"])
    assert vase is not None and (vase["description"], vase["price"]) == ("Hand-made", 11)
