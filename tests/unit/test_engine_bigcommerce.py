"""Issue 6 acceptance for BigCommerce -> BigCommerce, against two spec-faithful store simulators.

Counts are read from store B's request log, so "writes only that variant" is what B actually received.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog_sync.errors import DuplicateSku, MissingSku
from catalog_sync.sync_request import SyncRequest
from tests.unit.test_engine_rig import CONNECTION, Rig, comparable, rig


@pytest.fixture
def r() -> Iterator[Rig]:
    yield from rig()


def product_request(product_id: int) -> SyncRequest:
    return SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)


def full_product(r: Rig, sku: str = "TEE") -> dict[str, Any]:
    """A product with a brand, 2 categories (one under a parent), 3 images and 4 variants."""
    brand = r.a.create_brand("Acme")
    apparel = r.a.create_category("Apparel")
    shirts = r.a.create_category("Shirts", parent_id=apparel["id"])
    sale = r.a.create_category("Sale")

    def options(color: str, size: str) -> list[dict[str, str]]:
        return [
            {"option_display_name": "Color", "label": color},
            {"option_display_name": "Size", "label": size},
        ]

    combos = [("Red", "S"), ("Red", "M"), ("Blue", "S"), ("Blue", "M")]
    variants = [
        {"sku": f"{sku}-{c}-{s}", "price": 20.0 + i, "inventory_level": 5 + i, "option_values": options(c, s)}
        for i, (c, s) in enumerate(combos)
    ]
    images = [{"image_url": f"https://img.test/{sku}-{n}.jpg", "sort_order": n} for n in range(3)]
    r.clock.tick()
    return r.a.create_product(
        {"name": f"Shirt {sku}", "sku": sku, "price": 20, "weight": 1, "inventory_level": 30,
         "inventory_tracking": "variant", "brand_id": brand["id"], "categories": [shirts["id"], sale["id"]]},
        variants=variants,
        images=images,
    )  # fmt: skip


def test_a_full_product_syncs_completely_with_its_dependencies_first(r: Rig) -> None:
    product = full_product(r)

    outcome = r.engine().sync(product_request(product["id"]))

    assert outcome.action == "created"
    copied = r.b_product("TEE")
    assert comparable(copied) == comparable(r.a.get_product(product["id"]) or {})
    assert len([v for v in copied["variants"] if v["option_values"]]) == 4
    assert len(copied["images"]) == 3
    [brand] = r.b.brands()
    assert (brand["name"], copied["brand_id"]) == ("Acme", brand["id"])
    by_name = {c["name"]: c for c in r.b.categories()}
    assert by_name["Shirts"]["parent_id"] == by_name["Apparel"]["id"]
    assert sorted(copied["categories"]) == sorted([by_name["Shirts"]["id"], by_name["Sale"]["id"]])
    # dependencies were written before the product that uses them
    paths = [p for m, p, _ in r.b_writes() if m == "POST"]
    assert paths.index("/catalog/products") > max(
        paths.index("/catalog/brands"), paths.index("/catalog/categories")
    )
    assert r.engine().sync(product_request(product["id"])).action == "unchanged"


def test_editing_one_variant_writes_only_that_variant(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    red_m = next(v for v in product["variants"] if v["sku"] == "TEE-Red-M")
    mark = len(r.b.request_log)
    r.clock.tick()
    r.a.update_variant(product["id"], red_m["id"], {"price": 99.0, "inventory_level": 1})

    assert engine.sync(product_request(product["id"])).action == "updated"

    writes = r.b_writes(mark)
    assert len(writes) == 1
    (method, path, status) = writes[0]
    dest_variant = next(v for v in r.b_product("TEE")["variants"] if v["sku"] == "TEE-Red-M")
    assert (method, status) == ("PUT", 200)
    assert path.endswith(f"/variants/{dest_variant['id']}")
    assert (dest_variant["price"], dest_variant["inventory_level"]) == (99.0, 1)
    history = r.changes.history(CONNECTION, "product", product["id"])
    assert history[0]["fields"] == ["variants.TEE-Red-M"]
    assert history[0]["action"] == "updated"


def test_several_variant_edits_go_in_one_batch_request(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    mark = len(r.b.request_log)
    r.clock.tick()
    for v in product["variants"]:
        if v["option_values"]:
            r.a.update_variant(product["id"], v["id"], {"inventory_level": 0})

    engine.sync(product_request(product["id"]))

    assert [(m, p) for m, p, _ in r.b_writes(mark)] == [("PUT", "/catalog/variants")]
    assert {v["inventory_level"] for v in r.b_product("TEE")["variants"] if v["option_values"]} == {0}


def test_a_new_variant_on_an_existing_product_creates_its_option_value_then_the_variant(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    r.clock.tick()
    r.a.add_variant(
        product["id"],
        sku="TEE-Green-L",
        price=25.0,
        option_values=[
            {"option_display_name": "Color", "label": "Green"},
            {"option_display_name": "Size", "label": "L"},
        ],
    )

    assert engine.sync(product_request(product["id"])).action == "updated"
    assert engine.sync(product_request(product["id"])).action == "unchanged"

    copied = r.b_product("TEE")
    assert comparable(copied) == comparable(r.a.get_product(product["id"]) or {})
    posts = [p for m, p, _ in r.b.request_log if m == "POST"]
    assert any(p.endswith("/values") for p in posts)  # "Green" and "L" were added to existing options
    assert sum(1 for v in copied["variants"] if v["sku"] == "TEE-Green-L") == 1


def test_product_inventory_level_is_synced(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    r.clock.tick()
    r.a.update_product(product["id"], inventory_level=7)

    engine.sync(product_request(product["id"]))

    assert r.b_product("TEE")["inventory_level"] == 7


def test_a_deleted_product_is_soft_deleted_in_b_and_restored_when_it_returns(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    r.clock.tick()
    r.a.delete_product(product["id"])

    assert engine.sync(product_request(product["id"])).action == "deleted"
    hidden = r.b_product("TEE")
    assert (hidden["is_visible"], hidden["availability"]) == (False, "disabled")
    assert engine.sync(product_request(product["id"])).action == "absent"

    r.clock.tick()
    again = r.a.create_product(
        {"name": "Shirt TEE", "sku": "TEE", "price": 21, "weight": 1, "categories": []}
    )
    assert engine.sync(product_request(again["id"])).action == "updated"  # matched by SKU
    restored = r.b_product("TEE")
    assert (restored["is_visible"], restored["availability"], restored["price"]) == (True, "available", 21)
    assert len(r.b.products()) == 1


def test_a_restored_source_id_restores_the_destination_product(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    r.clock.tick()
    r.a.update_product(product["id"], is_visible=False)
    engine.sync(product_request(product["id"]))
    state = r.state.get(CONNECTION, "product", product["id"])
    assert state is not None and not state.deleted
    r.clock.tick()
    r.a.update_product(product["id"], is_visible=True)
    assert engine.sync(product_request(product["id"])).action == "updated"
    assert r.b_product("TEE")["is_visible"] is True


def test_duplicate_sku_at_the_destination_is_a_recorded_permanent_error(r: Rig) -> None:
    r.clock.tick()
    product = r.a.create_product({"name": "Mug", "sku": "MUG", "price": 5, "weight": 1})
    # at B the SKU belongs to a variant of another product: the create is refused with 409
    other = r.b.create_product({"name": "Cups", "sku": "CUPS", "price": 5, "weight": 1})
    r.b.add_variant(other["id"], sku="MUG", option_values=[{"option_display_name": "C", "label": "x"}])

    with pytest.raises(DuplicateSku):
        r.engine().sync(product_request(product["id"]))
    state = r.state.get(CONNECTION, "product", product["id"])
    assert state is not None and state.dest_id is None


def test_a_product_without_sku_is_a_missing_sku_error(r: Rig) -> None:
    product = r.a.create_product({"name": "No sku", "price": 5, "weight": 1})
    with pytest.raises(MissingSku):
        r.engine().sync(product_request(product["id"]))
    assert r.b.products() == []


@pytest.mark.parametrize(
    ("listing", "expected"), [("active", "available"), ("disabled", "disabled"), (None, "disabled")]
)
def test_channel_listing_on_the_source_sets_availability_in_b(
    r: Rig, listing: str | None, expected: str
) -> None:
    r.channel_on_source = 1
    r.clock.tick()
    product = r.a.create_product({"name": "Cap", "sku": "CAP", "price": 5, "weight": 1})
    if listing is not None:
        r.a.set_listing(1, product["id"], listing)

    r.engine().sync(product_request(product["id"]))

    assert r.b_product("CAP")["availability"] == expected


def test_without_a_channel_setting_availability_is_copied_as_is(r: Rig) -> None:
    r.clock.tick()
    product = r.a.create_product(
        {"name": "Cap", "sku": "CAP", "price": 5, "weight": 1, "availability": "preorder"}
    )
    r.engine().sync(product_request(product["id"]))
    assert r.b_product("CAP")["availability"] == "preorder"


def test_a_replayed_stream_with_duplicates_in_reverse_order_ends_equal_and_never_goes_back(r: Rig) -> None:
    """Each edit is followed by a sync that sees a *snapshot* of A: an engine that wrote what it fetched
    would write old data when a notification is processed late; ours always fetches the current state,
    and the guard refuses a fetched version older than the one applied."""
    product = full_product(r)
    engine = r.engine()
    versions = []
    for n in range(5):
        r.clock.tick()
        r.a.update_product(product["id"], price=30.0 + n)
        versions.append(r.a.get_product(product["id"]))
    stream = [product_request(product["id"])] * 3 + [product_request(product["id"])]
    applied: list[str] = []
    for request in reversed(stream + stream):
        engine.sync(request)
        state = r.state.get(CONNECTION, "product", product["id"])
        assert state is not None and state.source_modified is not None
        applied.append(state.source_modified)

    assert applied == sorted(applied)
    assert comparable(r.b_product("TEE")) == comparable(r.a.get_product(product["id"]) or {})
    product_puts = [p for m, p, _ in r.b_writes() if m == "PUT" and p.startswith("/catalog/products/")]
    assert len(product_puts) == 1  # created (hidden, then shown) at the latest version, then nothing


def test_an_older_fetched_version_is_refused_by_the_guard(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    r.clock.tick(10)
    r.a.update_product(product["id"], price=50.0)
    engine.sync(product_request(product["id"]))
    old = dict(r.a.get_product(product["id"]) or {})
    old["date_modified"] = "2020-01-01T00:00:00+00:00"
    old["price"] = 1.0
    engine.source.get_product = lambda _id: old  # type: ignore[method-assign,assignment]
    mark = len(r.b.request_log)

    assert engine.sync(product_request(product["id"])).action == "stale"
    assert r.b_writes(mark) == []
    assert r.b_product("TEE")["price"] == 50.0


def test_images_failing_past_the_http_retries_complete_on_the_record_retry_without_duplicates(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    r.clock.tick()
    r.a.update_product(product["id"], price=44.0)
    r.a.add_image(product["id"], "https://img.test/TEE-new.jpg")
    red_s = next(v for v in product["variants"] if v["sku"] == "TEE-Red-S")
    r.a.update_variant(product["id"], red_s["id"], {"price": 77.0})
    attempts = engine.destination.http.max_attempts
    r.b.fail_next("POST", r"/images$", status=500, times=2 * attempts + 1)

    with pytest.raises(Exception, match="gave up"):
        engine.sync(product_request(product["id"]))  # first delivery: fields and variant done, images not
    state = r.state.get(CONNECTION, "product", product["id"])
    assert state is not None and state.last_outcome == "partial"
    with pytest.raises(Exception, match="gave up"):
        engine.sync(product_request(product["id"]))  # second delivery: still failing
    assert engine.sync(product_request(product["id"])).action == "updated"  # third: completes

    copied = r.b_product("TEE")
    assert comparable(copied) == comparable(r.a.get_product(product["id"]) or {})
    assert len(copied["images"]) == 4
    assert len({i["image_url"] for i in copied["images"]}) == 4
    assert len(r.b.products()) == 1
    field_puts = [p for m, p, _ in r.b_writes() if m == "PUT" and p == f"/catalog/products/{copied['id']}"]
    assert len(field_puts) == 2  # the create's reveal, then the edit's fields: not repeated by the retries


def test_a_product_create_failing_after_it_landed_is_adopted_not_duplicated(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    real_create = engine.destination.create_product

    def lost_response(payload: Any) -> dict[str, Any]:
        real_create(payload)
        raise ConnectionError("response lost")

    engine.destination.create_product = lost_response  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        engine.sync(product_request(product["id"]))
    engine.destination.create_product = real_create  # type: ignore[method-assign]

    assert engine.sync(product_request(product["id"])).action == "updated"
    copied = r.b_product("TEE")
    assert comparable(copied) == comparable(r.a.get_product(product["id"]) or {})
    assert len(copied["images"]) == 3


def test_a_product_missing_for_a_moment_is_restored_even_when_nothing_changed(r: Rig) -> None:
    product = full_product(r)
    engine = r.engine()
    engine.sync(product_request(product["id"]))
    r.a.fail_next("GET", rf"/catalog/products/{product['id']}$", status=404)  # a transient 404

    assert engine.sync(product_request(product["id"])).action == "deleted"
    assert r.b_product("TEE")["is_visible"] is False
    assert engine.sync(product_request(product["id"])).action == "restored"

    restored = r.b_product("TEE")
    assert (restored["is_visible"], restored["availability"]) == (True, "available")
    assert comparable(restored) == comparable(r.a.get_product(product["id"]) or {})
