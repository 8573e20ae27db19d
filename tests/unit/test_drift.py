"""Drift: what is at both ends now, compared product by product, against the engine rig's two stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog_sync.drift import DriftReport, bigcommerce_drift
from catalog_sync.sync_request import SyncRequest
from tests.unit.test_engine_rig import CONNECTION, Rig, rig


@pytest.fixture
def r() -> Iterator[Rig]:
    yield from rig()


def drift(r: Rig) -> DriftReport:
    engine = r.engine()
    return bigcommerce_drift(
        CONNECTION, engine.source, engine.destination, r.state.iter_states(CONNECTION), page_size=2
    )


def synced(r: Rig, count: int = 3) -> list[int]:
    kitchen = r.a.create_category("Kitchen")
    small = [{"option_display_name": "Size", "label": "S"}]
    ids = []
    for n in range(count):
        r.clock.tick()
        fields = {
            "name": f"Mug {n}",
            "sku": f"MUG-{n}",
            "price": 5 + n,
            "weight": 1,
            "categories": [kitchen["id"]],
        }
        variants = [{"sku": f"MUG-{n}-S", "price": 5, "option_values": small}]
        images = [{"image_url": f"https://img.test/mug-{n}.jpg", "sort_order": 0}]
        ids.append(r.a.create_product(fields, variants=variants, images=images)["id"])
    engine = r.engine()
    for pid in ids:
        engine.sync(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid))
    return ids


def test_a_synced_catalog_has_no_drift_and_drift_writes_nothing(r: Rig) -> None:
    synced(r)
    mark = len(r.b.request_log)

    report = drift(r)

    assert (report.clean, report.compared, report.in_sync) == (True, 3, 3)
    assert r.b_writes(mark) == []


def test_edits_and_deletes_behind_the_systems_back_are_found_field_by_field(r: Rig) -> None:
    ids = synced(r)
    at_b = {p["sku"]: p for p in r.b.products()}
    r.b.update_product(at_b["MUG-0"]["id"], price=1.25)  # someone reprices it in B
    variant = next(v for v in at_b["MUG-1"]["variants"] if v["sku"] == "MUG-1-S")
    r.b.update_variant(at_b["MUG-1"]["id"], variant["id"], price=99)
    r.b.delete_product(at_b["MUG-2"]["id"])  # and deletes one

    report = drift(r)

    by_sku = {d.sku: d for d in report.drifted}
    assert sorted(by_sku) == ["MUG-0", "MUG-1", "MUG-2"]
    assert (by_sku["MUG-0"].kind, by_sku["MUG-0"].fields) == ("differs", {"price": (5.0, 1.25)})
    assert list(by_sku["MUG-1"].fields) == ["variants"]
    assert (by_sku["MUG-2"].kind, by_sku["MUG-2"].source_id) == ("missing", ids[2])


def test_a_product_deleted_at_the_source_must_stay_hidden_at_the_destination(r: Rig) -> None:
    ids = synced(r, count=1)
    r.a.delete_product(ids[0])
    r.engine().sync(SyncRequest(connection=CONNECTION, entity_type="product", entity_id=ids[0]))
    assert drift(r).clean

    r.b.update_product(r.b_product("MUG-0")["id"], is_visible=True)  # un-hidden by hand

    [entry] = drift(r).drifted
    assert (entry.kind, entry.fields) == ("not_hidden", {"is_visible": (False, True)})


def test_destination_products_the_connection_never_synced_are_counted_not_judged(r: Rig) -> None:
    synced(r, count=1)
    r.b.create_product({"name": "B only", "sku": "B-ONLY", "price": 1, "weight": 1})

    report = drift(r)

    assert report.clean and report.unmanaged == 1


def test_a_rename_a_move_and_an_image_made_in_b_behind_our_back_are_found(r: Rig) -> None:
    synced(r, count=3)
    at_b = {p["sku"]: p for p in r.b.products()}
    elsewhere = r.b.create_category("Elsewhere")
    r.b.update_product(at_b["MUG-0"]["id"], name="Mug zero", categories=[elsewhere["id"]])
    r.b.add_image(at_b["MUG-1"]["id"], "https://img.test/not-ours.jpg")

    report = drift(r)

    by_sku = {d.sku: d for d in report.drifted}
    assert sorted(by_sku) == ["MUG-0", "MUG-1"]
    assert by_sku["MUG-0"].fields == {
        "name": ("Mug 0", "Mug zero"),
        "categories": (["Kitchen"], ["Elsewhere"]),
    }
    assert list(by_sku["MUG-1"].fields) == ["images"]
    assert (report.compared, report.in_sync) == (3, 1)
