"""Issue 12, locally: the two-way connection `store-c-and-d` between simulated stores storec and stored,
through the whole stack (both stores' webhooks -> receiver -> queue -> consumer)."""

from __future__ import annotations

from typing import Any

from catalog_sync_local.runtime.sandbox import Sandbox

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


PIXLPAY_MEDUSA = "pixlpay-and-medusa"


def _medusa_client(box: Sandbox) -> Any:
    from pydantic import SecretStr

    from catalog_sync.connections import MedusaEndpoint
    from catalog_sync.connectors.medusa import MedusaClient

    medusa = box.medusa_store(PIXLPAY_MEDUSA)
    key = box.connection(PIXLPAY_MEDUSA)["destination"]["api_key"]
    return MedusaClient.for_endpoint(
        MedusaEndpoint(kind="medusa", api_url=medusa.api_url, api_key=SecretStr(key))
    )


def test_a_title_edited_in_medusa_and_a_price_edited_in_pixlpay_both_reach_both(
    hooked_sandbox: Sandbox,
) -> None:
    box = hooked_sandbox
    pixlpay, medusa = box.pixlpay_store(PIXLPAY_MEDUSA), box.medusa_store(PIXLPAY_MEDUSA)
    created = pixlpay.create_product("Gold Rank", "5.00", description="Shiny", sku="GOLD-1")
    box.settle()
    [copy] = [p for p in medusa.products() if p.get("external_id") == f"pixlpay_{created['id']}"]

    _medusa_client(box).update_product_fields(copy["id"], {"title": "Gold Rank+"})
    pixlpay.update_product(created["id"], price="6.50")
    box.settle()

    source = pixlpay.get_product(created["id"])
    state = _medusa_client(box).get_product_state(copy["id"])
    assert (source["name"], float(source["price"])) == ("Gold Rank+", 6.5)
    assert (state.title, state.price, state.status) == ("Gold Rank+", 6.5, "published")
    writes = (len(pixlpay.write_log), len(medusa.request_log))
    box.settle()  # the echoes of our writes are in: nothing more is written
    assert len(pixlpay.write_log) == writes[0]
    assert not [r for r in medusa.request_log[writes[1] :] if r[0] in ("POST", "DELETE")]


def test_the_hourly_pull_brings_a_medusa_edit_whose_webhook_was_lost_to_pixlpay(sandbox: Sandbox) -> None:
    pixlpay, medusa = sandbox.pixlpay_store(PIXLPAY_MEDUSA), sandbox.medusa_store(PIXLPAY_MEDUSA)
    created = pixlpay.create_product("Iron Rank", "3.00", sku="IRON-1")  # no webhooks registered anywhere
    sandbox.runtime.invoke("PullSyncFunction", {"connection": PIXLPAY_MEDUSA})
    sandbox.settle()
    [copy] = [p for p in medusa.products() if p.get("external_id") == f"pixlpay_{created['id']}"]

    _medusa_client(sandbox).update_product_fields(copy["id"], {"description": "Sturdy", "status": "draft"})
    result = sandbox.runtime.invoke("PullSyncFunction", {"connection": PIXLPAY_MEDUSA})
    sandbox.settle()

    assert [r["mode"] for r in result["connections"]] == ["audit", "cursor@destination"]
    source = pixlpay.get_product(created["id"])
    assert source is not None and (source["description"], source["is_active"]) == ("Sturdy", False)


def test_the_destination_route_refuses_one_way_connections_and_unsigned_deliveries(sandbox: Sandbox) -> None:
    import json

    import requests

    body = json.dumps(
        {"type": "product.updated", "timestamp": "2026-12-03T10:00:00Z", "data": {"id": "prod_1"}}
    )
    headers = {"Content-Type": "application/json"}
    one_way = requests.post(
        sandbox.webhook_url("store-a-to-b") + "/destination", data=body, headers=headers, timeout=10
    )
    assert (one_way.status_code, one_way.json()["error"]) == (404, "not_two_way")
    unsigned = requests.post(
        sandbox.webhook_url(PIXLPAY_MEDUSA) + "/destination", data=body, headers=headers, timeout=10
    )
    assert unsigned.status_code == 401 and "error" in unsigned.json()
