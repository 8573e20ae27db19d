"""The BigCommerce store simulator answers like the live v3 API, as BigCommerce's official specs describe it.

Every request and answer is checked against BigCommerce's official operation schemas by the store itself
(`simulators.bigcommerce.contract`); these tests also check shapes explicitly with
`simulators.bigcommerce.spec`, where `strict` checks also reject fields the spec does not name. Time is an
injected clock, so windows and timestamps are exact; every wait is bounded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook

from catalog_sync_local.simulators.bigcommerce.contract import Violation
from catalog_sync_local.simulators.bigcommerce.spec import (
    SpecViolation,
    validate_definition,
    validate_notification,
    validate_request,
    validate_response,
)
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

TOKEN = "t0ken"
SECRET = "whsec_c2ltdWxhdG9yLXRlc3Qtb25seS1zaWduaW5nLWtleQ=="
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A tiny client for the simulator (no proxies from the environment)."""

    def __init__(self, store: BigCommerceStore, token: str = TOKEN) -> None:
        self.store = store
        self.base = store.v3_base
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.session.request(method, self.base + path, json=body, params=params or None, timeout=5)

    @contextmanager
    def breaking_the_spec(self) -> Iterator[list[Violation]]:
        """Requests made on purpose outside the official spec: the store records them here instead of
        failing the test."""
        with self.store.contract.expect_violations() as seen:
            yield seen


class Receiver:
    """A local webhook endpoint: records every POST; answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Iterator[BigCommerceStore]:
    with BigCommerceStore(
        "abc123", TOKEN, clock=clock, quota=10_000, webhook_secret=SECRET, allow_loopback_http=True
    ) as running:
        yield running


@pytest.fixture
def api(store: BigCommerceStore) -> Api:
    return Api(store)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.stop()


FULL = ("variants", "images")
MUG = {"name": "Mug", "type": "physical", "weight": 1, "price": 9.5, "sku": "MUG-1"}
RED = {"sku": "MUG-1-RED", "price": 10.0, "option_values": [{"option_display_name": "Color", "label": "Red"}]}


def ok(resp: requests.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def product(store: BigCommerceStore, product_id: int) -> dict[str, Any]:
    found = store.get_product(product_id)
    assert found is not None
    return found


# --- response shapes, per the official specs -----------------------------------------------------------


def test_product_create_read_list_and_update_answer_the_spec_shapes(api: Api) -> None:
    body = {**MUG, "variants": [RED], "images": [{"image_url": "https://img.test/mug.jpg"}]}
    validate_request("catalog", "POST", "/catalog/products", body)
    created = ok(api("POST", "/catalog/products", body))
    validate_response("catalog", "POST", "/catalog/products", 200, created, strict=True)
    assert (created["data"]["name"], created["data"]["sku"], created["data"]["price"]) == (
        "Mug",
        "MUG-1",
        9.5,
    )
    path = f"/catalog/products/{created['data']['id']}"
    product = ok(api("GET", path, include="variants,images"))["data"]
    base, red = product["variants"]
    assert (base["id"], base["sku"], base["option_values"]) == (product["base_variant_id"], "MUG-1", [])
    assert red["option_values"][0]["option_display_name"] == "Color"
    assert product["images"][0]["is_thumbnail"] is True

    path = f"/catalog/products/{product['id']}"
    validate_response(
        "catalog", "GET", path, 200, ok(api("GET", path, include="variants,images")), strict=True
    )
    listed = ok(api("GET", "/catalog/products", include="variants,images"))
    validate_response("catalog", "GET", "/catalog/products", 200, listed, strict=True)

    validate_request("catalog", "PUT", path, {"price": 11.0})
    updated = ok(api("PUT", path, {"price": 11.0}))
    validate_response("catalog", "PUT", path, 200, updated, strict=True)
    assert updated["data"]["price"] == 11.0
    assert api("DELETE", path).status_code == 204
    assert api("GET", path).status_code == 404


def test_variant_and_image_endpoints_answer_the_spec_shapes(api: Api) -> None:
    pid = ok(api("POST", "/catalog/products", MUG))["data"]["id"]
    variants = f"/catalog/products/{pid}/variants"
    created = ok(api("POST", variants, RED))
    validate_response("catalog", "POST", variants, 200, created, strict=True)
    vid = created["data"]["id"]
    validate_response("catalog", "GET", variants, 200, ok(api("GET", variants)), strict=True)
    one = f"{variants}/{vid}"
    validate_response("catalog", "GET", one, 200, ok(api("GET", one)), strict=True)
    updated = ok(api("PUT", one, {"inventory_level": 7}))
    validate_response("catalog", "PUT", one, 200, updated, strict=True)
    assert updated["data"]["inventory_level"] == 7
    # /catalog/variants' schema omits `mpn` and `calculated_weight`, which the per-product schema names.
    validate_response("catalog", "GET", "/catalog/variants", 200, ok(api("GET", "/catalog/variants")))
    batch = ok(api("PUT", "/catalog/variants", [{"id": vid, "price": 12.5}]))
    validate_response("catalog", "PUT", "/catalog/variants", 200, batch)
    assert api("DELETE", one).status_code == 204

    images = f"/catalog/products/{pid}/images"
    image = ok(api("POST", images, {"image_url": "https://img.test/a.jpg", "description": "front"}))
    validate_response("catalog", "POST", images, 200, image, strict=True)
    one = f"{images}/{image['data']['id']}"
    validate_response("catalog", "GET", images, 200, ok(api("GET", images)), strict=True)
    validate_response("catalog", "GET", one, 200, ok(api("GET", one)), strict=True)
    validate_response("catalog", "PUT", one, 200, ok(api("PUT", one, {"sort_order": 2})), strict=True)
    assert api("DELETE", one).status_code == 204


def test_categories_and_brands_answer_the_spec_shapes_and_names_are_unique(api: Api) -> None:
    parent = ok(api("POST", "/catalog/categories", {"name": "Kitchen", "parent_id": 0}))
    validate_response("catalog", "POST", "/catalog/categories", 200, parent, strict=True)
    child = {"name": "Mugs", "parent_id": parent["data"]["id"]}
    cid = ok(api("POST", "/catalog/categories", child))["data"]["id"]
    duplicate = api("POST", "/catalog/categories", child)
    assert duplicate.status_code == 409
    validate_response("catalog", "POST", "/catalog/categories", 409, duplicate.json(), strict=True)
    assert api("POST", "/catalog/categories", {"name": "Mugs", "parent_id": 0}).status_code == 200
    one = f"/catalog/categories/{cid}"
    validate_response("catalog", "GET", one, 200, ok(api("GET", one)), strict=True)
    validate_response("catalog", "PUT", one, 200, ok(api("PUT", one, {"description": "Tall"})), strict=True)
    listed = ok(api("GET", "/catalog/categories", parent_id=parent["data"]["id"]))
    validate_response("catalog", "GET", "/catalog/categories", 200, listed, strict=True)
    assert [c["id"] for c in listed["data"]] == [cid]

    brand = ok(api("POST", "/catalog/brands", {"name": "Acme"}))
    validate_response("catalog", "POST", "/catalog/brands", 200, brand, strict=True)
    conflict = api("POST", "/catalog/brands", {"name": "ACME"})
    assert conflict.status_code == 409
    validate_response("catalog", "POST", "/catalog/brands", 409, conflict.json(), strict=True)
    validate_response(
        "catalog", "GET", "/catalog/brands", 200, ok(api("GET", "/catalog/brands")), strict=True
    )
    one = f"/catalog/brands/{brand['data']['id']}"
    validate_response("catalog", "PUT", one, 200, ok(api("PUT", one, {"page_title": "Acme!"})), strict=True)
    assert api("DELETE", one).status_code == 204


def test_products_must_reference_existing_categories_and_brands(api: Api) -> None:
    missing = api("POST", "/catalog/products", {**MUG, "categories": [999]})
    assert missing.status_code == 409
    validate_response("catalog", "POST", "/catalog/products", 409, missing.json(), strict=True)
    assert api("POST", "/catalog/products", {**MUG, "brand_id": 999}).status_code == 409


def test_channel_listings_answer_the_spec_shapes_and_filter_by_product(
    store: BigCommerceStore, api: Api
) -> None:
    mug = store.create_product(MUG)
    cup = store.create_product(name="Cup", sku="CUP-1", price=3)
    listings = "/channels/2/listings"
    body = [{"product_id": mug["id"], "state": "active", "variants": []}]
    validate_request("channels", "POST", listings, body)
    created = ok(api("POST", listings, body))
    # channels.v3.yml declares one listing here; see simulators.bigcommerce.spec.ERRATA
    validate_response("channels", "POST", listings, 200, created, strict=True)
    with api.breaking_the_spec() as seen:
        missing = api("POST", listings, [{"product_id": cup["id"], "state": "active"}])
    assert [(v.side, [str(p) for p in v.problems]) for v in seen] == [
        ("request", ["$[0].variants: error.path.missing"])
    ]
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"0.variants": "error.path.missing"}
    validate_response("channels", "POST", listings, 422, missing.json())

    store.set_listing(2, cup["id"], "disabled")
    page = ok(api("GET", listings, **{"product_id:in": str(cup["id"])}))
    validate_response("channels", "GET", listings, 200, page, strict=True)
    [listing] = page["data"]
    assert (listing["product_id"], listing["state"]) == (cup["id"], "disabled")
    assert listing["variants"][0]["variant_id"] == cup["base_variant_id"]

    variants = [
        {"product_id": cup["id"], "variant_id": v["variant_id"], "state": "active"}
        for v in listing["variants"]
    ]
    update = [
        {
            "listing_id": listing["listing_id"],
            "product_id": cup["id"],
            "state": "active",
            "variants": variants,
        }
    ]
    updated = ok(api("PUT", listings, update))
    validate_response("channels", "PUT", listings, 200, updated, strict=True)
    assert [li["state"] for li in store.listings(2)] == ["active", "active"]
    assert store.listings(3) == []


def test_hooks_api_answers_the_spec_shapes(api: Api) -> None:
    body = {
        "scope": "store/product/*",
        "destination": "https://hooks.test/x",
        "is_active": True,
        "headers": {},
    }
    validate_request("webhooks", "POST", "/hooks", body)
    created = ok(api("POST", "/hooks", body))
    validate_response("webhooks", "POST", "/hooks", 200, created, strict=True)
    one = f"/hooks/{created['data']['id']}"
    validate_response("webhooks", "GET", "/hooks", 200, ok(api("GET", "/hooks")), strict=True)
    validate_response("webhooks", "GET", one, 200, ok(api("GET", one)), strict=True)
    validate_response(
        "webhooks", "PUT", one, 200, ok(api("PUT", one, {**body, "is_active": False})), strict=True
    )
    deleted = ok(api("DELETE", one))
    validate_response("webhooks", "DELETE", one, 200, deleted, strict=True)
    assert ok(api("GET", "/hooks"))["data"] == []
    with api.breaking_the_spec() as seen:
        invalid = api("POST", "/hooks", {"scope": "store/product/*"})
        partial_update = api("PUT", one.replace(one.rsplit("/", 1)[1], "1"), {"is_active": False})
    assert [v.side for v in seen] == ["request", "request"]
    assert partial_update.status_code == 422  # PUT replaces the hook: every field is required
    assert set(partial_update.json()["errors"]) == {"scope", "destination", "headers"}
    assert invalid.status_code == 422
    validate_response("webhooks", "POST", "/hooks", 422, invalid.json())


def test_the_validator_names_what_is_wrong() -> None:
    product = {"data": {"id": 1, "name": "Mug", "type": "physical", "weight": 1, "price": "9.50"}, "meta": {}}
    with pytest.raises(SpecViolation, match=r"\$\.data\.price: error\.expected\.jsnumber"):
        validate_response("catalog", "GET", "/catalog/products/{product_id}", 200, product)
    with pytest.raises(SpecViolation, match=r"\$\.colour: error\.path\.unexpected"):
        validate_definition("catalog", "brand_Full", {"name": "Acme", "colour": "red"}, strict=True)
    with pytest.raises(SpecViolation, match="no 202 response"):
        validate_response("catalog", "PUT", "/catalog/products", 202, {})


# --- listing: pagination, sorting, modified-since ----------------------------------------------------


def test_pagination_meta_walks_every_product_once(store: BigCommerceStore, api: Api) -> None:
    ids = [store.create_product(name=f"P{i}", sku=f"P-{i}", price=i)["id"] for i in range(7)]
    seen: list[int] = []
    for page in range(1, 4):
        body = ok(api("GET", "/catalog/products", page=page, limit=3, is_visible="true"))
        pagination = body["meta"]["pagination"]
        expected_count = 3 if page < 3 else 1
        assert (pagination["total"], pagination["count"], pagination["per_page"]) == (7, expected_count, 3)
        assert (pagination["current_page"], pagination["total_pages"]) == (page, 3)
        assert ("previous" in pagination["links"], "next" in pagination["links"]) == (page > 1, page < 3)
        assert f"page={page}&limit=3" in pagination["links"]["current"]
        seen += [p["id"] for p in body["data"]]
    assert seen == ids
    assert ok(api("GET", "/catalog/products", limit=1000))["meta"]["pagination"]["per_page"] == 250


def test_sort_by_date_modified_with_a_min_filter_breaks_ties_by_id(
    store: BigCommerceStore, api: Api, clock: Clock
) -> None:
    a = store.create_product(name="A", price=1)["id"]
    b = store.create_product(name="B", price=1)["id"]
    clock.advance(60)
    c = store.create_product(name="C", price=1)["id"]
    d = store.create_product(name="D", price=1)["id"]
    clock.advance(60)
    store.update_product(a, price=2)  # a is now the most recently modified
    since = datetime.fromtimestamp(T0 + 30, UTC).isoformat()

    asc = ok(api("GET", "/catalog/products", sort="date_modified", **{"date_modified:min": since}))
    assert [p["id"] for p in asc["data"]] == [c, d, a]
    desc = ok(api("GET", "/catalog/products", sort="date_modified", direction="desc"))
    assert [p["id"] for p in desc["data"]] == [a, c, d, b]
    assert ok(api("GET", "/catalog/products", sort="name", direction="desc"))["data"][0]["name"] == "D"
    with api.breaking_the_spec():
        assert api("GET", "/catalog/products", sort="colour").status_code == 422


def test_a_bare_date_filter_gets_the_current_time_of_day_appended(
    store: BigCommerceStore, api: Api, clock: Clock
) -> None:
    early = store.create_product(name="Early", price=1)["id"]  # 2024-05-01T08:00
    clock.advance(5 * 3600)
    late = store.create_product(name="Late", price=1)["id"]  # 2024-05-01T13:00
    clock.now = datetime(2024, 5, 2, 10, 0, tzinfo=UTC).timestamp()  # now: 10:00 the next day

    bare = ok(api("GET", "/catalog/products", **{"date_modified:min": "2024-05-01"}))
    assert [p["id"] for p in bare["data"]] == [late]  # means 2024-05-01T10:00:00
    full = ok(api("GET", "/catalog/products", **{"date_modified:min": "2024-05-01T00:00:00+00:00"}))
    assert [p["id"] for p in full["data"]] == [early, late]
    assert api("GET", "/catalog/products", **{"date_modified:min": "last tuesday"}).status_code == 422


def test_products_are_found_by_sku_of_the_product_or_of_a_variant(store: BigCommerceStore, api: Api) -> None:
    mug = store.create_product(MUG, variants=[RED])
    store.create_product(name="Cup", sku="CUP-1", price=3)
    for sku in ("MUG-1", "MUG-1-RED"):
        assert [p["id"] for p in ok(api("GET", "/catalog/products", sku=sku))["data"]] == [mug["id"]]
    with api.breaking_the_spec() as seen:  # catalog.v3.yml declares `sku` but no `sku:in` filter
        undeclared = api("GET", "/catalog/products", **{"sku:in": "MUG-1,CUP-1"})
    assert undeclared.status_code == 400
    assert undeclared.json()["errors"] == {"sku:in": "error.path.unexpected"}
    assert [str(p) for v in seen for p in v.problems] == ["?sku:in: error.path.unexpected"]
    assert ok(api("GET", "/catalog/products", **{"id:in": str(mug["id"])}))["data"][0]["name"] == "Mug"


# --- limits, auth and errors --------------------------------------------------------------------------


def test_the_rate_limit_window_refuses_the_request_after_the_quota(clock: Clock) -> None:
    with BigCommerceStore("abc123", TOKEN, clock=clock, quota=5, window_ms=30_000) as store:
        api = Api(store)
        lefts = []
        for _ in range(5):
            resp = api("GET", "/catalog/products")
            assert resp.status_code == 200
            lefts.append(int(resp.headers["X-Rate-Limit-Requests-Left"]))
        assert lefts == [4, 3, 2, 1, 0]
        clock.advance(10)
        refused = api("POST", "/catalog/products", MUG)
        assert refused.status_code == 429
        assert refused.headers["X-Rate-Limit-Requests-Left"] == "0"
        assert refused.headers["X-Rate-Limit-Requests-Quota"] == "5"
        assert refused.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
        assert refused.headers["X-Rate-Limit-Time-Reset-Ms"] == "20000"
        assert refused.json()["status"] == 429
        assert store.products() == []  # not performed

        clock.advance(20)
        again = api("POST", "/catalog/products", MUG)
        assert again.status_code == 200
        assert again.headers["X-Rate-Limit-Requests-Left"] == "4"
        assert again.headers["X-Rate-Limit-Time-Reset-Ms"] == "30000"


def test_a_wrong_token_is_401_and_spends_no_quota(clock: Clock) -> None:
    with BigCommerceStore("abc123", TOKEN, clock=clock, quota=5) as store:
        resp = Api(store, token="wrong")("GET", "/catalog/products")
        assert resp.status_code == 401
        assert resp.json()["status"] == 401
        assert resp.headers["X-Rate-Limit-Requests-Left"] == "5"
        anonymous = requests.get(f"{store.v3_base}/catalog/products", timeout=5)
        assert anonymous.status_code == 401


def test_missing_resources_are_404(store: BigCommerceStore, api: Api) -> None:
    pid = store.create_product(MUG)["id"]
    for path in (
        "/catalog/products/999",
        f"/catalog/products/{pid}/variants/999",
        f"/catalog/products/{pid}/images/999",
        "/catalog/categories/999",
        "/catalog/brands/999",
        "/hooks/999",
        "/channels/1/listings/999",
    ):
        resp = api("GET", path)
        assert resp.status_code == 404, path
        assert resp.json()["status"] == 404
    with api.breaking_the_spec() as seen:
        assert api("GET", "/catalog/nothing-here").status_code == 404
    assert [str(p) for v in seen for p in v.problems] == ["operation: not in BigCommerce's specs"]
    validate_response(
        "catalog", "GET", "/catalog/products/999", 404, api("GET", "/catalog/products/999").json()
    )
    assert requests.get(f"{store.api_url}/stores/other/v3/catalog/products", timeout=5).status_code == 404
    assert store.get_product(999) is None


def test_duplicate_sku_or_name_is_409_in_the_spec_error_shape(store: BigCommerceStore, api: Api) -> None:
    mug = store.create_product(MUG, variants=[RED])
    for body in ({**MUG, "name": "Other"}, {**MUG, "name": "Other", "sku": "MUG-1-RED"}, {**MUG, "sku": "X"}):
        resp = api("POST", "/catalog/products", body)
        assert resp.status_code == 409, body
        validate_response("catalog", "POST", "/catalog/products", 409, resp.json(), strict=True)
    clash = api("POST", f"/catalog/products/{mug['id']}/variants", {**RED, "sku": "MUG-1"})
    assert clash.status_code == 409
    assert set(clash.json()["errors"]) == {"sku"}
    renamed = api("PUT", f"/catalog/products/{mug['id']}", {"sku": "MUG-1-RED"})
    validate_response("catalog", "PUT", "/catalog/products/{product_id}", 409, renamed.json(), strict=True)


def test_missing_or_mistyped_fields_are_422(api: Api) -> None:
    with api.breaking_the_spec() as seen:
        resp = api("POST", "/catalog/products", {"name": "Mug", "type": "physical", "weight": "heavy"})
        assert api("POST", "/catalog/products", [MUG]).status_code == 422
        assert api("POST", "/catalog/products", {**MUG, "colour": "red"}).status_code == 422
        bad_json = api.session.post(api.base + "/catalog/products", data=b"{nope", timeout=5)
    assert resp.status_code == 422
    assert resp.json()["errors"] == {"price": "error.path.missing", "weight": "error.expected.jsnumber"}
    validate_response("catalog", "POST", "/catalog/products", 422, resp.json(), strict=True)
    assert bad_json.status_code == 400
    assert [str(v.problems[0]) for v in seen] == [
        "$.price: error.path.missing",
        "$: error.expected.jsobject",
        "$.colour: error.path.unexpected",
        "$: the body is not valid JSON",
    ]
    assert api.store.products() == []


def test_a_product_batch_over_ten_items_is_refused(store: BigCommerceStore, api: Api) -> None:
    ids = [store.create_product(name=f"P{i}", price=1)["id"] for i in range(11)]
    resp = api("PUT", "/catalog/products", [{"id": i, "price": 2} for i in ids])
    assert resp.status_code == 413
    validate_response("catalog", "PUT", "/catalog/products", 413, resp.json(), strict=True)
    assert {p["price"] for p in store.products()} == {1}


def test_a_product_batch_with_some_failures_is_207_with_indexed_errors(
    store: BigCommerceStore, api: Api
) -> None:
    a = store.create_product(name="A", sku="A-1", price=1)["id"]
    b = store.create_product(name="B", sku="B-1", price=1)["id"]
    resp = api("PUT", "/catalog/products", [{"id": a, "price": 5}, {"id": b, "sku": "A-1"}, {"id": 999}])
    assert resp.status_code == 207
    body = resp.json()
    validate_response(
        "catalog", "PUT", "/catalog/products", 200, {"data": body["data"], "meta": body["meta"]}
    )
    assert [p["id"] for p in body["data"]] == [a]
    assert [(e["status"], sorted(e["errors"])) for e in body["batch_errors"]] == [
        (409, ["1.sku"]),
        (404, ["2.id"]),
    ]
    for error in body["batch_errors"]:
        validate_definition("catalog", "errorResponse_409", error, strict=True)
    assert [(p["price"], p["sku"]) for p in store.products()] == [(5, "A-1"), (1, "B-1")]

    # none landed: the spec's plain 409, its errors naming every failed item by index
    alone = api("PUT", "/catalog/products", [{"id": b, "sku": "A-1"}, {"id": 999, "price": 1}])
    assert alone.status_code == 409
    validate_response("catalog", "PUT", "/catalog/products", 409, alone.json(), strict=True)
    assert sorted(alone.json()["errors"]) == ["0.sku", "1.id"]


@pytest.mark.parametrize("status", [409, 422])
def test_a_whole_product_batch_can_be_refused_as_the_spec_describes(
    store: BigCommerceStore, api: Api, status: int
) -> None:
    """Fault injection for a refusal of the whole batch (no per-item errors): nothing is written."""
    a = store.create_product(name="A", sku="A-1", price=1)["id"]
    store.fail_next("PUT", r"^/catalog/products$", status=status)
    refused = api("PUT", "/catalog/products", [{"id": a, "price": 2}])
    assert refused.status_code == status
    validate_response("catalog", "PUT", "/catalog/products", status, refused.json(), strict=True)
    assert product(store, a)["price"] == 1


def test_a_variant_batch_is_all_or_nothing_and_at_most_fifty(store: BigCommerceStore, api: Api) -> None:
    mug = store.create_product(MUG, variants=[RED])
    red = mug["variants"][1]["id"]
    refused = api("PUT", "/catalog/variants", [{"id": red, "price": 1.0}, {"id": 999, "price": 1.0}])
    assert refused.status_code == 422
    validate_response("catalog", "PUT", "/catalog/variants", 422, refused.json(), strict=True)
    assert product(store, mug["id"])["variants"][1]["price"] == 10.0
    assert api("PUT", "/catalog/variants", [{"id": red}] * 51).status_code == 413


def test_fail_next_answers_the_injected_status_without_performing(store: BigCommerceStore, api: Api) -> None:
    store.fail_next("POST", r"^/catalog/products$", status=503, times=2)
    assert [api("POST", "/catalog/products", MUG).status_code for _ in range(2)] == [503, 503]
    assert store.products() == []
    assert api("GET", "/catalog/products").status_code == 200  # other requests pass
    assert api("POST", "/catalog/products", MUG).status_code == 200
    writes = [r for r in store.request_log if r.method != "GET"]
    assert writes == [("POST", "/catalog/products", 503)] * 2 + [("POST", "/catalog/products", 200)]


# --- modification times and webhooks -----------------------------------------------------------------


def hook(api: Api, receiver: Receiver, scope: str, **extra: Any) -> int:
    body = {"scope": scope, "destination": receiver.url, "is_active": True, "headers": {}, **extra}
    return int(ok(api("POST", "/hooks", body))["data"]["id"])


def test_a_change_is_delivered_signed_and_verifies_with_standardwebhooks(
    store: BigCommerceStore, api: Api, receiver: Receiver
) -> None:
    hook_id = hook(api, receiver, "store/product/updated", headers={"X-Shared": "s3cret"})
    pid = store.create_product(MUG)["id"]
    store.update_product(pid, price=12.0)
    assert store.wait_for_deliveries(timeout=5)

    [(headers, raw)] = receiver.received
    payload = Webhook(SECRET).verify(raw, headers)
    assert headers["x-shared"] == "s3cret"
    assert payload["scope"] == "store/product/updated"
    assert payload["data"] == {"type": "product", "id": pid}
    assert (payload["store_id"], payload["producer"]) == (store.store_id, "stores/abc123")
    validate_notification(payload)  # the keys and types BigCommerce documents
    assert [(d.hook_id, d.scope, d.status, d.attempts, d.delivered) for d in store.deliveries] == [
        (hook_id, "store/product/updated", 200, 1, True)
    ]


def test_sku_events_carry_the_product_and_variant_like_the_samples(
    store: BigCommerceStore, api: Api, receiver: Receiver
) -> None:
    hook(api, receiver, "store/sku/*")
    pid = store.create_product(MUG)["id"]
    variant = store.add_variant(pid, RED)
    store.update_variant(pid, variant["id"], price=11.0)
    store.delete_variant(pid, variant["id"])
    assert store.wait_for_deliveries(timeout=5)
    payloads = receiver.payloads()
    assert [p["scope"] for p in payloads] == ["store/sku/created", "store/sku/updated", "store/sku/deleted"]
    for payload in payloads:
        validate_notification(payload)
        assert payload["data"]["sku"] == {"product_id": pid, "variant_id": variant["id"]}
        assert payload["data"]["id"] == variant["sku_id"]


def test_images_fire_product_updated_twice_and_every_change_moves_date_modified(
    store: BigCommerceStore, api: Api, receiver: Receiver, clock: Clock
) -> None:
    hook(api, receiver, "store/product/*")
    pid = store.create_product(MUG)["id"]
    stamps = [product(store, pid)["date_modified"]]
    for change in (
        partial(store.add_image, pid, "https://img.test/a.jpg"),
        partial(store.add_variant, pid, RED),
        partial(store.update_product, pid, description="<p>Tall</p>"),
    ):
        clock.advance(1)
        change()
        stamps.append(product(store, pid)["date_modified"])
    assert len(set(stamps)) == 4
    assert stamps[-1] == "2024-05-01T08:00:03+00:00"
    store.delete_product(pid)
    assert store.wait_for_deliveries(timeout=5)
    assert [p["scope"] for p in receiver.payloads()] == [
        "store/product/created",
        "store/product/updated",  # the image, twice (as seed 003 observed)
        "store/product/updated",
        "store/product/updated",  # the description; the variant fired only store/sku/created
        "store/product/deleted",
    ]


def test_categories_fire_their_hooks_and_inactive_hooks_get_nothing(
    store: BigCommerceStore, api: Api, receiver: Receiver
) -> None:
    hook(api, receiver, "store/category/*")
    hook(api, receiver, "store/product/created", is_active=False)
    cid = store.create_category("Mugs")["id"]
    store.update_category(cid, description="All mugs")
    store.update_category(cid, description="All mugs")  # no change, no hook
    store.delete_category(cid)
    store.create_product(MUG)
    assert store.wait_for_deliveries(timeout=5)
    assert [(p["scope"], p["data"]) for p in receiver.payloads()] == [
        (f"store/category/{action}", {"type": "category", "id": cid})
        for action in ("created", "updated", "deleted")
    ]


def test_a_failed_delivery_is_retried_a_bounded_number_of_times(
    store: BigCommerceStore, api: Api, receiver: Receiver
) -> None:
    hook(api, receiver, "store/product/created")
    receiver.statuses = [500, 503]
    store.create_product(MUG)
    assert store.wait_for_deliveries(timeout=5)
    [delivery] = store.deliveries
    assert (delivery.attempts, delivery.status, delivery.delivered) == (3, 200, True)
    assert len({headers["webhook-id"] for headers, _ in receiver.received}) == 1  # one message, retried

    receiver.statuses = [500] * 5
    store.create_product(name="Cup", price=1)
    assert store.wait_for_deliveries(timeout=5)
    last = store.deliveries[-1]
    assert (last.attempts, last.status, last.delivered) == (3, 500, False)


def test_only_loopback_destinations_are_contacted(store: BigCommerceStore, api: Api) -> None:
    body = {"scope": "store/product/created", "destination": "https://example.com/h", "is_active": True}
    ok(api("POST", "/hooks", {**body, "headers": {}}))
    store.create_product(MUG)
    assert store.wait_for_deliveries(timeout=5)
    [delivery] = store.deliveries
    assert (delivery.attempts, delivery.delivered) == (0, False)
    assert delivery.error is not None and "refused" in delivery.error


@pytest.mark.parametrize(
    "destination",
    [
        "http://example.com/h",  # not https
        "https://example.com:8443/h",  # not port 443
        "http://localhost:8080/h",  # the loopback allowance is 127.0.0.1 only
        "ftp://example.com/h",
        "https://",
    ],
)
def test_a_destination_must_be_https_on_443_or_the_allowed_loopback(api: Api, destination: str) -> None:
    body = {"scope": "store/product/*", "destination": destination, "is_active": True, "headers": {}}
    refused = api("POST", "/hooks", body)
    assert refused.status_code == 422
    assert refused.json()["errors"]["destination"].startswith("error.url.invalid")
    validate_response("webhooks", "POST", "/hooks", 422, refused.json())
    for allowed in ("https://example.com/h", "https://example.com:443/h", "http://127.0.0.1:3000/h"):
        assert api("POST", "/hooks", {**body, "destination": allowed}).status_code == 200
    assert [h["destination"] for h in api.store.webhooks()] == [
        "https://example.com/h",
        "https://example.com:443/h",
        "http://127.0.0.1:3000/h",
    ]


def test_without_the_loopback_allowance_only_https_on_443_is_accepted(clock: Clock) -> None:
    with BigCommerceStore("abc123", TOKEN, clock=clock) as store:
        body = {"scope": "store/product/*", "destination": "http://127.0.0.1:3000/h", "is_active": True}
        refused = Api(store)("POST", "/hooks", {**body, "headers": {}})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"destination"}


# --- lifecycle and the programmatic API --------------------------------------------------------------


def test_the_dashboard_api_returns_full_resources(store: BigCommerceStore) -> None:
    brand = store.create_brand("Acme")
    category = store.create_category("Kitchen")
    mug = store.create_product(
        MUG,
        categories=[category["id"]],
        brand_id=brand["id"],
        variants=[RED],
        images=[{"image_url": "https://img.test/mug.jpg"}],
    )
    assert [v["sku"] for v in mug["variants"]] == ["MUG-1", "MUG-1-RED"]
    assert mug["images"][0]["image_url"] == "https://img.test/mug.jpg"
    assert store.get_product(mug["id"], include="") == {k: v for k, v in mug.items() if k not in FULL}
    assert [v["sku"] for v in product(store, mug["id"])["variants"]] == ["MUG-1", "MUG-1-RED"]
    assert [p["sku"] for p in store.products()] == ["MUG-1"]
    assert [c["name"] for c in store.categories()] == ["Kitchen"]
    assert [b["name"] for b in store.brands()] == ["Acme"]
    store.delete_category(category["id"])
    assert product(store, mug["id"])["categories"] == []


def test_stop_is_prompt_and_closes_the_port(clock: Clock) -> None:
    store = BigCommerceStore("abc123", TOKEN, clock=clock).start()
    base = store.v3_base
    assert base.startswith("http://127.0.0.1:")
    started = time.monotonic()
    store.stop()
    assert time.monotonic() - started < 3
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/catalog/products", headers={"X-Auth-Token": TOKEN}, timeout=2)


def test_product_options_and_values_answer_the_spec_shapes_and_back_new_variants(api: Api) -> None:
    pid = ok(api("POST", "/catalog/products", {**MUG, "variants": [RED]}))["data"]["id"]
    options = f"/catalog/products/{pid}/options"
    listed = ok(api("GET", options))
    # catalog.v3.yml declares productOption_Base.option_values as one object; the API answers an array
    # (the same slip as product variants): simulators.bigcommerce.spec.ERRATA patches it.
    validate_response("catalog", "GET", options, 200, listed, strict=True)
    [color] = listed["data"]
    assert (color["display_name"], [v["label"] for v in color["option_values"]]) == ("Color", ["Red"])

    values = f"{options}/{color['id']}/values"
    blue = ok(api("POST", values, {"label": "Blue", "sort_order": 1}))
    validate_response("catalog", "POST", values, 200, blue, strict=True)
    assert api("POST", values, {"label": "Blue", "sort_order": 2}).status_code == 409
    size = ok(
        api(
            "POST",
            options,
            {
                "display_name": "Size",
                "type": "rectangles",
                "option_values": [{"label": "L", "sort_order": 0}],
            },
        )
    )
    validate_response("catalog", "POST", options, 200, size, strict=True)

    # a variant on an existing product references existing option values by id
    body = {"sku": "MUG-1-BLUE-L", "option_values": [
        {"id": blue["data"]["id"], "option_id": color["id"]},
        {"id": size["data"]["option_values"][0]["id"], "option_id": size["data"]["id"]},
    ]}  # fmt: skip
    created = ok(api("POST", f"/catalog/products/{pid}/variants", body))["data"]
    assert sorted(o["label"] for o in created["option_values"]) == ["Blue", "L"]
    bad = {"sku": "X", "option_values": [{"id": 999999, "option_id": color["id"]}]}
    assert api("POST", f"/catalog/products/{pid}/variants", bad).status_code == 422
