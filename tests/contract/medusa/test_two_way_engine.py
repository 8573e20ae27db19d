"""Two-way Pixlpay <-> Medusa through the engine (TwoWaySync) against a real Medusa 2.x: a Pixlpay product
synced there, then edited in Medusa's Admin API while Pixlpay (our simulator) is edited too; the merge
reads Medusa's real answers and writes both sides. Our own write read back from Medusa is recognised."""

from __future__ import annotations

from typing import Any

from catalog_sync.store.conflicts import ConflictStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync.two_way_sync import TwoWaySync
from catalog_sync.two_way_wiring import two_way_engine
from tests.contract.medusa.test_pixlpay_to_medusa import CONNECTION, Rig, rig  # noqa: F401
from tests.unit.test_engine_rig import TABLE


def engine(r: Rig) -> TwoWaySync:
    conn = r.connection(direction="two-way")
    source, dest = r.clients(conn)
    conflicts = ConflictStore(TABLE, r.state.client, clock=r.clock)
    return two_way_engine(conn, r.engine(conn), source, dest, r.state, conflicts, owner="contract")


def from_pixlpay(product_id: int) -> SyncRequest:
    return SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)


def from_medusa(product_id: str) -> SyncRequest:
    return SyncRequest(
        connection=CONNECTION, entity_type="product", entity_id=0, side="destination", dest_id=product_id
    )


def test_a_title_edited_in_medusa_and_a_price_edited_in_pixlpay_meet_at_both(rig: Rig) -> None:  # noqa: F811
    e = engine(rig)
    product = rig.vip()
    assert e.sync(from_pixlpay(product["id"])).action == "created"
    medusa_id = str(rig.medusa_product(product["id"])["id"])
    rig.clock.tick()

    rig.api.ok(rig.api.post(f"/admin/products/{medusa_id}", {"title": "VIP Rank (Medusa)"}))
    rig.pixlpay.update_product(product["id"], price="14.00")
    assert e.sync(from_medusa(medusa_id)).action == "updated"

    got: dict[str, Any] = rig.medusa_product(product["id"])
    [variant] = got["variants"]
    assert got["title"] == "VIP Rank (Medusa)"
    assert [(p["amount"], p["currency_code"]) for p in variant["prices"]] == [(14.0, "eur")]
    source = rig.pixlpay.get_product(product["id"])
    assert source is not None and (source["name"], float(source["price"])) == ("VIP Rank (Medusa)", 14.0)
    writes = len(rig.pixlpay.write_log)
    assert e.sync(from_medusa(medusa_id)).action == "echo"  # our price write, read back from Medusa
    assert e.sync(from_pixlpay(product["id"])).action in ("echo", "unchanged")
    assert len(rig.pixlpay.write_log) == writes
