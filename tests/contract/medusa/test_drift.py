"""Drift against a real Medusa 2.x (`make contract`): a product the engine synced compares equal field by
field as Medusa answers it (no false drift from how Medusa stores or returns a field), and a title edited
through Medusa's own Admin API is listed with its field. Medusa's database holds the other contract
tests' products too (their Pixlpay sources are gone), so only this test's product is judged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.medusa import MedusaClient
from catalog_sync.connectors.pixlpay import PixlpayClient
from catalog_sync.drift import Drifted, DriftReport
from catalog_sync.drift_medusa import medusa_drift
from catalog_sync.store.state import StateStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore
from tests.contract.medusa.api_facts import Api
from tests.contract.medusa.test_pixlpay_to_medusa import BRAND, CONNECTION, Rig, _ids
from tests.unit.test_engine_rig import TABLE, Clock, make_state_table


@pytest.fixture
def drift_rig(medusa_api: Api) -> Iterator[Rig]:
    clock = Clock()
    with mock_aws(), PixlpayStore("pix-token", quota=100_000, clock=clock) as pixlpay:
        pixlpay._ids = _ids  # ids unique in this Medusa across tests
        yield Rig(pixlpay, medusa_api, clock, StateStore(TABLE, make_state_table(), clock=clock))


def drift(rig: Rig) -> DriftReport:
    engine = rig.engine()
    assert isinstance(engine.source, PixlpayClient)
    endpoint = engine.connection.destination
    assert isinstance(endpoint, MedusaEndpoint)
    return medusa_drift(CONNECTION, engine.source, MedusaClient.for_endpoint(endpoint), brand=BRAND)


def entries_for(report: DriftReport, product_id: int) -> list[Drifted]:
    return [d for d in report.drifted if d.external_id == f"pixlpay_{product_id}"]


def test_drift_finds_a_title_edited_through_medusas_admin_api_and_nothing_else(drift_rig: Rig) -> None:
    rig = drift_rig
    product, inactive = rig.vip(stock=3), rig.vip(is_active=False)
    engine = rig.engine()
    assert [rig.sync(engine, p["id"]) for p in (product, inactive)] == ["created", "created"]

    before = drift(rig)

    assert entries_for(before, product["id"]) == [] and entries_for(before, inactive["id"]) == []
    held = rig.medusa_product(product["id"])
    rig.api.ok(rig.api.post(f"/admin/products/{held['id']}", {"title": "Edited in Medusa's admin"}))

    [entry] = entries_for(drift(rig), product["id"])

    assert (entry.kind, entry.dest_id) == ("differs", held["id"])
    assert entry.fields == {"title": ("VIP Rank", "Edited in Medusa's admin")}
