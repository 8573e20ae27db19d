"""What a Medusa 2.x Admin API does, as checks that run against a real Medusa (test_api_facts.py, under
`make contract`) and against our simulator (tests/unit/test_medusa_sim_fidelity.py, in the fast suite):
the same check passing on both is what keeps the simulator honest between contract runs.

Each fact takes an `Api` and asserts; names say what Medusa does.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class Api:
    url: str  # the server, without /admin
    secret_key: str
    publishable_key: Callable[[], str]  # a key linked to the store's default sales channel

    def auth(self, key: str | None = None, *, colon: bool = True) -> dict[str, str]:
        token = base64.b64encode(f"{key or self.secret_key}{':' if colon else ''}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
        return requests.get(self.url + path, params=params, headers=headers or self.auth(), timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(self.url + path, json=body, headers=self.auth(), timeout=30)

    def ok(self, resp: requests.Response) -> dict[str, Any]:
        assert resp.status_code == 200, (
            f"{resp.request.method} {resp.url} -> {resp.status_code}: {resp.text[:300]}"
        )
        return dict(resp.json())

    def default_channel(self) -> str:
        stores = self.ok(self.get("/admin/stores", fields="id,default_sales_channel_id"))["stores"]
        return str(stores[0]["default_sales_channel_id"])

    def new_product(self, **more: Any) -> dict[str, Any]:
        handle = f"fact-{uuid.uuid4().hex[:12]}"
        body = {
            "title": "Fact",
            "handle": handle,
            "status": "published",
            "options": [{"title": "Size", "values": ["One"]}],
            "variants": [
                {
                    "title": "One",
                    "sku": handle,
                    "manage_inventory": False,
                    "options": {"Size": "One"},
                    "prices": [{"amount": 5, "currency_code": "eur"}],
                }
            ],
            **more,
        }
        return dict(self.ok(self.post("/admin/products", body))["product"])

    def new_brand(self) -> dict[str, Any]:
        name = f"Fact brand {uuid.uuid4().hex[:8]}"
        body = {"name": name, "external_id": f"fact_{uuid.uuid4().hex}"}
        return dict(self.ok(self.post("/admin/brands", body))["brand"])


def a_secret_key_is_basic_auth_with_or_without_the_colon_and_bearer_is_401(api: Api) -> None:
    assert api.get("/admin/products", limit=1).status_code == 200
    assert api.get("/admin/products", headers=api.auth(colon=False), limit=1).status_code == 200
    bearer = {"Authorization": f"Bearer {api.secret_key}"}
    assert api.get("/admin/products", headers=bearer, limit=1).status_code == 401
    assert api.get("/admin/products", headers=api.auth("sk_wrong"), limit=1).status_code == 401


def an_unknown_route_is_express_html_404(api: Api) -> None:
    resp = api.get("/admin/no-such-route")
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Cannot GET /admin/no-such-route" in resp.text


def a_missing_product_is_404_not_found(api: Api) -> None:
    resp = api.get("/admin/products/prod_missing")
    assert resp.status_code == 404
    assert resp.json()["type"] == "not_found"


def fields_returns_only_what_is_asked_and_star_variants_carries_no_prices(api: Api) -> None:
    pid = api.new_product()["id"]
    assert set(api.ok(api.get(f"/admin/products/{pid}", fields="id,title"))["product"]) == {"id", "title"}
    assert set(api.ok(api.get(f"/admin/products/{pid}", fields="title"))["product"]) == {"id", "title"}
    [variant] = api.ok(api.get(f"/admin/products/{pid}", fields="id,*variants"))["product"]["variants"]
    assert "sku" in variant and "prices" not in variant
    with_prices = api.ok(api.get(f"/admin/products/{pid}", fields="id,*variants,*variants.prices"))
    [price] = with_prices["product"]["variants"][0]["prices"]
    assert (price["amount"], price["currency_code"]) == (5, "eur") and price["id"].startswith("price_")


def metadata_is_merged_on_update_and_an_empty_string_deletes_a_key(api: Api) -> None:
    pid = api.new_product(metadata={"a": 1, "b": 2})["id"]
    api.ok(api.post(f"/admin/products/{pid}", {"metadata": {"a": "", "c": 3}}))
    assert api.ok(api.get(f"/admin/products/{pid}", fields="id,metadata"))["product"]["metadata"] == {
        "b": 2,
        "c": 3,
    }
    api.ok(api.post(f"/admin/products/{pid}", {"metadata": {"b": None}}))
    assert api.ok(api.get(f"/admin/products/{pid}", fields="id,metadata"))["product"]["metadata"] == {
        "b": None,
        "c": 3,
    }


def a_duplicate_handle_is_400_invalid_data(api: Api) -> None:
    handle = api.new_product()["handle"]
    options = [{"title": "Size", "values": ["One"]}]
    resp = api.post("/admin/products", {"title": "Again", "handle": handle, "options": options})
    assert resp.status_code == 400
    assert resp.json()["type"] == "invalid_data" and handle in resp.json()["message"]


def categories_and_option_values_come_back_as_objects(api: Api) -> None:
    name = f"Fact cat {uuid.uuid4().hex[:8]}"
    category = api.ok(api.post("/admin/product-categories", {"name": name, "is_active": True}))[
        "product_category"
    ]
    pid = api.new_product(categories=[{"id": category["id"]}])["id"]
    fields = "id,*categories,*options,*options.values,*variants,*variants.options"
    product = api.ok(api.get(f"/admin/products/{pid}", fields=fields))["product"]
    [got] = product["categories"]
    assert (got["id"], got["name"], got["handle"]) == (category["id"], name, category["handle"])
    [option] = product["options"]
    assert [(v["value"], v["option_id"]) for v in option["values"]] == [("One", option["id"])]
    [value] = product["variants"][0]["options"]
    assert (value["value"], value["option_id"]) == ("One", option["id"])


def a_price_update_gives_the_price_a_new_id(api: Api) -> None:
    product = api.new_product()
    variant = product["variants"][0]
    before = variant["prices"][0]["id"]
    path = f"/admin/products/{product['id']}/variants/{variant['id']}"
    api.ok(api.post(path, {"prices": [{"amount": 7, "currency_code": "eur"}]}))
    fields = "id,*variants,*variants.prices"
    [price] = api.ok(api.get(f"/admin/products/{product['id']}", fields=fields))["product"]["variants"][0][
        "prices"
    ]
    assert price["amount"] == 7 and price["id"] != before


def lists_page_by_50_and_brands_by_20(api: Api) -> None:
    assert api.ok(api.get("/admin/products", fields="id"))["limit"] == 50
    assert api.ok(api.get("/admin/product-categories", fields="id"))["limit"] == 50
    assert api.ok(api.get("/admin/brands"))["limit"] == 20


def a_product_needs_options(api: Api) -> None:
    resp = api.post("/admin/products", {"title": "No options", "handle": f"fact-{uuid.uuid4().hex[:12]}"})
    assert resp.status_code == 400
    assert resp.json() == {
        "type": "invalid_data",
        "message": "Product options are not provided for: [No options].",
    }


def categories_refuse_an_undeclared_filter_products_ignore_it(api: Api) -> None:
    resp = api.get("/admin/product-categories", bogus="1")
    assert resp.status_code == 400
    assert resp.json() == {"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'bogus'"}
    assert api.get("/admin/products", bogus="1", fields="id").status_code == 200
    product = api.new_product(external_id=f"fact_{uuid.uuid4().hex}")
    by_handle = api.ok(api.get("/admin/products", handle=product["handle"], fields="id"))["products"]
    by_external = api.ok(api.get("/admin/products", external_id=product["external_id"], fields="id"))[
        "products"
    ]
    assert by_handle == by_external == [{"id": product["id"]}]


def the_brand_module_filters_by_external_id_and_name(api: Api) -> None:
    brand = api.new_brand()
    listed = api.ok(api.get("/admin/brands", external_id=brand["external_id"]))
    assert [(b["id"], b["name"]) for b in listed["brands"]] == [(brand["id"], brand["name"])]
    assert [b["id"] for b in api.ok(api.get("/admin/brands", name=brand["name"]))["brands"]] == [brand["id"]]
    assert api.get("/admin/brands", bogus="1").status_code == 400
    renamed = api.ok(api.post(f"/admin/brands/{brand['id']}", {"name": brand["name"] + " 2"}))["brand"]
    assert (renamed["id"], renamed["name"]) == (brand["id"], brand["name"] + " 2")
    duplicate = api.post("/admin/brands", {"name": "Other", "external_id": brand["external_id"]})
    assert duplicate.status_code == 400 and duplicate.json()["type"] == "invalid_data"


def additional_data_brand_id_links_replaces_and_null_unlinks_the_brand(api: Api) -> None:
    first, second = api.new_brand(), api.new_brand()
    pid = api.new_product(additional_data={"brand_id": first["id"]})["id"]

    def brand() -> Any:
        return api.ok(api.get(f"/admin/products/{pid}", fields="id,*brand"))["product"].get("brand")

    assert brand()["id"] == first["id"]
    api.ok(api.post(f"/admin/products/{pid}", {"additional_data": {"brand_id": second["id"]}}))
    assert brand()["id"] == second["id"]
    api.ok(api.post(f"/admin/products/{pid}", {"title": "Fact 2"}))  # absent: the link stays
    assert brand()["id"] == second["id"]
    api.ok(api.post(f"/admin/products/{pid}", {"additional_data": {"brand_id": None}}))
    assert brand() is None
    unknown = api.post(f"/admin/products/{pid}", {"additional_data": {"brand_id": "brand_missing"}})
    assert unknown.status_code == 404 and unknown.json()["type"] == "not_found"


def the_storefront_sees_only_published_products_in_its_sales_channel(api: Api) -> None:
    key = {"x-publishable-api-key": api.publishable_key()}
    pid = api.new_product()["id"]
    assert api.get(f"/store/products/{pid}", headers=key).status_code == 404  # in no sales channel
    channel = api.default_channel()
    api.ok(api.post(f"/admin/sales-channels/{channel}/products", {"add": [pid]}))
    api.ok(api.post(f"/admin/sales-channels/{channel}/products", {"add": [pid]}))  # adding again is fine
    assert api.ok(api.get(f"/store/products/{pid}", headers=key, fields="id,title"))["product"]["id"] == pid
    fields = "id,*sales_channels"
    channels = api.ok(api.get(f"/admin/products/{pid}", fields=fields))["product"]["sales_channels"]
    assert [c["id"] for c in channels] == [channel]
    api.ok(api.post(f"/admin/products/{pid}", {"status": "draft"}))
    assert api.get(f"/store/products/{pid}", headers=key).status_code == 404


def a_variant_sku_is_unique_until_renamed(api: Api) -> None:
    """Observed on 2.21.2: a second product with a variant SKU in use is 400 invalid_data; renaming the
    first variant's SKU frees it (how a soft delete makes way for a re-created product)."""
    first = api.new_product()
    sku = first["variants"][0]["sku"]
    body = {
        "title": "Fact",
        "handle": f"fact-{uuid.uuid4().hex[:12]}",
        "options": [{"title": "Size", "values": ["One"]}],
        "variants": [{"title": "One", "sku": sku, "options": {"Size": "One"}, "manage_inventory": False,
                      "prices": [{"amount": 5, "currency_code": "eur"}]}],
    }  # fmt: skip
    refused = api.post("/admin/products", body)
    assert refused.status_code == 400
    assert refused.json() == {
        "type": "invalid_data",
        "message": f"Product variant with sku: {sku}, already exists.",
    }
    variant = first["variants"][0]["id"]
    api.ok(api.post(f"/admin/products/{first['id']}/variants/{variant}", {"sku": f"{sku}~deleted"}))
    api.ok(api.post("/admin/products", body))


def a_variant_is_added_by_post_and_two_cannot_share_option_values(api: Api) -> None:
    bare = api.new_product(variants=[])
    variant = {
        "title": "One",
        "sku": f"fact-{uuid.uuid4().hex[:12]}",
        "manage_inventory": False,
        "options": {"Size": "One"},
        "prices": [{"amount": 7, "currency_code": "eur"}],
    }
    product = api.ok(api.post(f"/admin/products/{bare['id']}/variants", variant))["product"]
    assert [v["sku"] for v in product["variants"]] == [variant["sku"]]
    again = api.post(f"/admin/products/{bare['id']}/variants", {**variant, "sku": f"{variant['sku']}-2"})
    assert again.status_code == 400
    assert again.json() == {
        "type": "invalid_data",
        "message": "Variant (One) with provided options already exists.",
    }


FACTS: list[Callable[[Api], None]] = [
    a_secret_key_is_basic_auth_with_or_without_the_colon_and_bearer_is_401,
    an_unknown_route_is_express_html_404,
    a_missing_product_is_404_not_found,
    fields_returns_only_what_is_asked_and_star_variants_carries_no_prices,
    metadata_is_merged_on_update_and_an_empty_string_deletes_a_key,
    a_duplicate_handle_is_400_invalid_data,
    categories_and_option_values_come_back_as_objects,
    a_price_update_gives_the_price_a_new_id,
    lists_page_by_50_and_brands_by_20,
    a_product_needs_options,
    categories_refuse_an_undeclared_filter_products_ignore_it,
    the_brand_module_filters_by_external_id_and_name,
    additional_data_brand_id_links_replaces_and_null_unlinks_the_brand,
    the_storefront_sees_only_published_products_in_its_sales_channel,
    a_variant_sku_is_unique_until_renamed,
    a_variant_is_added_by_post_and_two_cannot_share_option_values,
]


# --- two-way sync (issue 12): the cursor pull's filters and what moves updated_at -------------------------


def products_filter_on_updated_at_and_order_by_one_field(api: Api) -> None:
    first, second = api.new_product(), api.new_product()
    second = api.ok(api.post(f"/admin/products/{second['id']}", {"title": "Fact later"}))["product"]
    since = first["updated_at"]
    listed = api.ok(
        api.get(
            "/admin/products",
            **{"updated_at[$gte]": since, "order": "updated_at", "fields": "id,updated_at", "limit": 200},
        )
    )
    ids = [p["id"] for p in listed["products"]]
    assert ids.index(first["id"]) < ids.index(second["id"])
    times = [p["updated_at"] for p in listed["products"]]
    assert times == sorted(times) and min(times) >= since
    after = api.ok(api.get("/admin/products", **{"updated_at[$gt]": since, "fields": "id", "limit": 200}))
    assert first["id"] not in [p["id"] for p in after["products"]]
    exact = api.ok(
        api.get("/admin/products", **{"updated_at[$eq]": second["updated_at"], "fields": "id", "order": "id"})
    )
    assert second["id"] in [p["id"] for p in exact["products"]]
    newest = api.ok(api.get("/admin/products", order="-updated_at", fields="id,updated_at", limit=1))
    assert newest["products"][0]["updated_at"] >= second["updated_at"]
    two_fields = api.get("/admin/products", order="updated_at,id", fields="id")
    assert two_fields.status_code == 500 and two_fields.json()["type"] == "unknown_error"
    keyset = api.get("/admin/products", **{"id[$gt]": first["id"], "fields": "id"})
    assert keyset.status_code == 400 and keyset.json()["type"] == "invalid_data"


def a_variant_price_edit_moves_the_variants_updated_at_not_the_products(api: Api) -> None:
    product = api.new_product()
    variant = product["variants"][0]
    time.sleep(0.01)  # timestamps are milliseconds
    path = f"/admin/products/{product['id']}/variants/{variant['id']}"
    after = api.ok(api.post(path, {"prices": [{"amount": 9, "currency_code": "eur"}]}))["product"]
    assert after["updated_at"] == product["updated_at"]
    assert after["variants"][0]["updated_at"] > variant["updated_at"]


def a_deleted_product_answers_deleted_and_is_gone(api: Api) -> None:
    pid = api.new_product()["id"]
    resp = requests.delete(f"{api.url}/admin/products/{pid}", headers=api.auth(), timeout=30)
    assert resp.status_code == 200 and resp.json() == {"id": pid, "object": "product", "deleted": True}
    assert api.get(f"/admin/products/{pid}").status_code == 404
    assert api.ok(api.get("/admin/products", id=pid, fields="id"))["products"] == []


FACTS += [
    products_filter_on_updated_at_and_order_by_one_field,
    a_variant_price_edit_moves_the_variants_updated_at_not_the_products,
    a_deleted_product_answers_deleted_and_is_gone,
]
