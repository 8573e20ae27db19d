"""Medusa as a destination beyond the happy path: a Medusa without our Brand Module (brands off, one
warning, every product still syncs), no brand at all, sales channels and the storefront, merged metadata."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from moto import mock_aws
from pydantic import SecretStr

from catalog_sync.connections import Connection, MedusaEndpoint, PixlpayEndpoint, Signing
from catalog_sync.connectors.medusa import MedusaClient, NoSalesChannel
from catalog_sync.connectors.pixlpay import PixlpayClient
from catalog_sync.external_id_sync import ExternalIdSync
from catalog_sync.store.changelog import ChangeLog
from catalog_sync.store.state import StateStore
from catalog_sync_local.simulators.medusa.store import BrandModule, MedusaStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore
from tests.unit.test_engine_rig import TABLE, Clock, make_state_table
from tests.unit.test_pixlpay_to_medusa import CONNECTION, PixRig, req, vip


def rig(brand_module: BrandModule) -> Iterator[PixRig]:
    clock = Clock()
    with (
        mock_aws(),
        PixlpayStore("pix-token", quota=100_000, clock=clock) as pixlpay,
        MedusaStore("sk_test", clock=clock, brand_module=brand_module) as medusa,
    ):
        client = make_state_table()
        yield PixRig(pixlpay, medusa, clock, StateStore(TABLE, client, clock=clock), ChangeLog(TABLE, client))


@pytest.fixture
def bare() -> Iterator[PixRig]:
    """A Medusa without any brand customization: /admin/brands is Express's HTML 404."""
    yield from rig(None)


@pytest.fixture
def tutorial() -> Iterator[PixRig]:
    """A Medusa with the docs tutorial's Brand Module: no external_id, a strict brand_id string."""
    yield from rig("tutorial")


@pytest.fixture
def ours() -> Iterator[PixRig]:
    yield from rig("catalog-sync")


def engine(r: PixRig, *, brand: str | None, channel: str | None = None) -> ExternalIdSync:
    destination = MedusaEndpoint(
        kind="medusa",
        api_url=r.medusa.api_url,
        api_key=SecretStr("sk_test"),
        sales_channel_id=channel,
        max_requests_per_second=0,
    )
    conn = Connection(
        name=CONNECTION,
        source=PixlpayEndpoint(
            kind="pixlpay", api_url=r.pixlpay.api_url, api_token=SecretStr("pix-token"), brand=brand
        ),
        destination=destination,
        signing=Signing(scheme="pixlpay", secrets=[SecretStr("s")]),
        scopes=["product.*"],
    )
    source = PixlpayClient.for_endpoint(conn.source)  # type: ignore[arg-type]
    source.http.sleep = lambda s: None
    source.http.min_interval_s = 0
    dest = MedusaClient.for_endpoint(destination)
    return ExternalIdSync(conn, source, dest, r.state, owner="w1", brand=brand, changes=r.changes)


def brand_requests(r: PixRig) -> list[tuple[str, str, int]]:
    return [(m, p, s) for m, p, s in r.medusa.request_log if p.startswith("/admin/brands")]


@pytest.mark.parametrize("flavour", ["bare", "tutorial"])
def test_without_our_brand_module_brands_are_off_with_one_warning_and_every_product_syncs(
    flavour: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    r: PixRig = request.getfixturevalue(flavour)
    sync = engine(r, brand="Blockcraft Store")
    first, second = vip(r), vip(r, sku="X")

    with caplog.at_level(logging.WARNING, logger="catalog_sync.connectors.medusa"):
        assert sync.sync(req(first["id"])).action == "created"
        assert sync.sync(req(second["id"])).action == "created"

    [warning] = caplog.records
    assert "Brands are off for this connection" in warning.getMessage()
    assert "integrations/medusa-brand" in warning.getMessage()
    assert [status for _, _, status in brand_requests(r)] == [404 if flavour == "bare" else 400]  # asked once
    assert [p["brand"] for p in r.medusa.products()] == [None, None]
    brand_state = r.state.get(CONNECTION, "brand", 0)
    assert brand_state is None or brand_state.dest_id is None  # none recorded: a later install is picked up


def test_the_tutorials_brand_id_validator_is_never_sent_null(tutorial: PixRig) -> None:
    sync = engine(tutorial, brand=None)
    product = vip(tutorial)

    assert sync.sync(req(product["id"])).action == "created"
    tutorial.clock.tick()
    tutorial.pixlpay.update_product(product["id"], name="VIP+")
    assert sync.sync(req(product["id"])).action == "updated"

    assert brand_requests(tutorial) == []
    assert (tutorial.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {})["title"] == "VIP+"


def test_the_tutorials_validator_refuses_a_null_brand_id(tutorial: PixRig) -> None:
    """What the connector used to send when there was no brand (issue 11, finding 2)."""
    body = {"title": "T", "options": [{"title": "O", "values": ["V"]}], "additional_data": {"brand_id": None}}
    resp = requests.post(f"{tutorial.medusa.api_url}/admin/products", json=body, headers=_auth(), timeout=5)
    assert resp.status_code == 400
    assert (
        "Expected type: 'string' for field 'additional_data, brand_id', got: 'null'" in resp.json()["message"]
    )


def test_products_go_into_the_stores_default_sales_channel_and_the_storefront_sees_them(ours: PixRig) -> None:
    product = vip(ours)
    assert engine(ours, brand=None).sync(req(product["id"])).action == "created"

    copied = ours.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert [c["id"] for c in copied["sales_channels"]] == [ours.medusa.default_sales_channel_id]
    key = {"x-publishable-api-key": ours.medusa.publishable_key}
    seen = requests.get(f"{ours.medusa.api_url}/store/products/{copied['id']}", headers=key, timeout=5)
    assert seen.status_code == 200


def test_a_connection_names_its_sales_channel_and_the_merchants_channels_stay(ours: PixRig) -> None:
    web = ours.medusa.add_sales_channel("Web")
    sync = engine(ours, brand=None, channel=web)
    product = vip(ours)
    sync.sync(req(product["id"]))
    copied = ours.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert [c["id"] for c in copied["sales_channels"]] == [web]

    url = f"{ours.medusa.api_url}/admin/sales-channels/{ours.medusa.default_sales_channel_id}/products"
    assert requests.post(url, json={"add": [copied["id"]]}, headers=_auth(), timeout=5).status_code == 200
    ours.clock.tick()
    ours.pixlpay.update_product(product["id"], name="Renamed")
    assert sync.sync(req(product["id"])).action == "updated"

    after = ours.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert sorted(c["id"] for c in after["sales_channels"]) == sorted(
        [web, ours.medusa.default_sales_channel_id]
    )


def test_a_store_without_a_default_channel_is_a_clear_permanent_error(ours: PixRig) -> None:
    ours.medusa._store["default_sales_channel_id"] = None  # such a store: its channel deleted
    with pytest.raises(NoSalesChannel, match="set sales_channel_id"):
        engine(ours, brand=None).sync(req(vip(ours)["id"]))
    assert ours.medusa.products() == []


def test_a_stock_that_becomes_unknown_is_deleted_from_merged_metadata(ours: PixRig) -> None:
    product = vip(ours, stock=5)
    sync = engine(ours, brand=None)
    sync.sync(req(product["id"]))
    external = f"pixlpay_{product['id']}"
    assert (ours.medusa.product_by_external_id(external) or {})["metadata"]["pixlpay_stock"] == 5
    ours.clock.tick()
    ours.pixlpay.update_product(product["id"], stock=None)

    assert sync.sync(req(product["id"])).action == "updated"

    assert "pixlpay_stock" not in (ours.medusa.product_by_external_id(external) or {})["metadata"]


def test_a_new_product_without_stock_has_no_stock_key(ours: PixRig) -> None:
    product = vip(ours)
    engine(ours, brand=None).sync(req(product["id"]))
    metadata = (ours.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {})["metadata"]
    assert metadata == {"pixlpay_id": product["id"], "pixlpay_type": "digital", "pixlpay_deleted": False}


def _auth() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(b"sk_test:").decode()}


def test_a_product_synced_before_sales_channels_joins_the_channel_on_its_next_sync(ours: PixRig) -> None:
    """Products synced by an earlier version are in no channel and their state has no `channel` part."""
    product = vip(ours)
    sync = engine(ours, brand=None)
    sync.sync(req(product["id"]))
    copied = ours.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    url = f"{ours.medusa.api_url}/admin/sales-channels/{ours.medusa.default_sales_channel_id}/products"
    requests.post(url, json={"remove": [copied["id"]]}, headers=_auth(), timeout=5).raise_for_status()
    old = ours.state.acquire(CONNECTION, "product", product["id"], owner="old", lease_s=60)
    parts = {k: v for k, v in (old.parts or {}).items() if k != "channel"}
    ours.state.commit(replace(old, parts=parts, content_hash="hash-of-the-old-version"), owner="old")

    outcome = sync.sync(req(product["id"]))

    assert outcome.action == "updated"
    [latest, _] = ours.changes.history(CONNECTION, "product", product["id"])
    assert latest["fields"] == ["channel"]
    after = ours.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert [c["id"] for c in after["sales_channels"]] == [ours.medusa.default_sales_channel_id]
