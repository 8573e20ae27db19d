"""Pixlpay -> Medusa against a real Medusa 2.x: the engine (ExternalIdSync) and our MedusaClient write to
the Medusa `make contract` started; every field is read back from Medusa's own Admin and Store APIs. The
Pixlpay side is our simulator (no real Pixlpay here)."""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws
from pydantic import SecretStr

from catalog_sync.connections import Connection, MedusaEndpoint, PixlpayEndpoint, Signing
from catalog_sync.connectors.medusa import MedusaClient
from catalog_sync.connectors.pixlpay import PixlpayClient
from catalog_sync.external_id_sync import ExternalIdSync
from catalog_sync.store.state import StateStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore
from tests.contract.medusa.api_facts import Api
from tests.unit.test_engine_rig import TABLE, Clock, make_state_table

CONNECTION = "pixlpay-to-medusa-contract"
BRAND = "Blockcraft Contract Store"
READ = (
    "id,title,handle,external_id,description,status,thumbnail,metadata,updated_at,*images,*variants,"
    "*variants.prices,*categories,*sales_channels,*brand"
)


@dataclass
class Rig:
    pixlpay: PixlpayStore
    api: Api
    clock: Clock
    state: StateStore
    channel: str | None = None

    def connection(self, **changes: Any) -> Connection:
        """Pixlpay (our simulator) -> the real Medusa; `changes` (e.g. direction="two-way") on top."""
        fields: dict[str, Any] = {
            "name": CONNECTION,
            "source": PixlpayEndpoint(
                kind="pixlpay",
                api_url=self.pixlpay.api_url,
                api_token=SecretStr("pix-token"),
                max_requests_per_minute=1_000_000,
                brand=BRAND,
            ),
            "destination": MedusaEndpoint(
                kind="medusa",
                api_url=self.api.url,
                api_key=SecretStr(self.api.secret_key),
                sales_channel_id=self.channel,
                currency_code="eur",  # a fresh Medusa store's only currency
                max_requests_per_second=0,
            ),
            "signing": Signing(scheme="pixlpay", secrets=[SecretStr("s")]),
            "scopes": ["product.*"],
        }
        return Connection(**{**fields, **changes})

    def clients(self, conn: Connection) -> tuple[PixlpayClient, MedusaClient]:
        source = PixlpayClient.for_endpoint(conn.source)  # type: ignore[arg-type]
        source.http.sleep = lambda s: None
        return source, MedusaClient.for_endpoint(conn.destination)  # type: ignore[arg-type]

    def engine(self, conn: Connection | None = None) -> ExternalIdSync:
        """The connection's one-way engine (a two-way connection's leaves its merged fields out)."""
        conn = conn or self.connection()
        source, dest = self.clients(conn)
        merged = frozenset(conn.merge_rules()) if conn.two_way else frozenset[str]()
        return ExternalIdSync(
            conn, source, dest, self.state, owner="contract", brand=BRAND, merged_fields=merged
        )

    def sync(self, engine: ExternalIdSync, product_id: int) -> str:
        request = SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)
        return engine.sync(request).action

    def medusa_product(self, product_id: int) -> dict[str, Any]:
        """The product as Medusa holds it, found by its external id."""
        external = f"pixlpay_{product_id}"
        [found] = self.api.ok(self.api.get("/admin/products", external_id=external, fields="id"))["products"]
        return dict(self.api.ok(self.api.get(f"/admin/products/{found['id']}", fields=READ))["product"])

    def vip(self, **more: Any) -> dict[str, Any]:
        category = next(_ids)
        fields: dict[str, Any] = {
            "description": "Access to VIP features",
            "type": "digital",
            "sku": f"VIP-{uuid.uuid4().hex[:8]}",
            "category": {"id": category, "name": f"Ranks {category}", "slug": "ranks"},
            "images": ["https://cdn.pixlpay.test/vip.png", "https://cdn.pixlpay.test/vip-2.png"],
            **more,
        }
        return self.pixlpay.create_product("VIP Rank", "9.99", **fields)


# Product and category ids unique in this Medusa across tests (its database lives for the whole run).
_ids = itertools.count(uuid.uuid4().int % 10_000 * 100_000)


@pytest.fixture
def rig(medusa_api: Api) -> Iterator[Rig]:
    clock = Clock()
    with mock_aws(), PixlpayStore("pix-token", quota=100_000, clock=clock) as pixlpay:
        pixlpay._ids = _ids
        yield Rig(pixlpay, medusa_api, clock, StateStore(TABLE, make_state_table(), clock=clock))


def test_a_product_is_created_with_every_field_in_the_default_channel_and_seen_by_the_storefront(
    rig: Rig,
) -> None:
    product = rig.vip()
    assert rig.sync(rig.engine(), product["id"]) == "created"

    got = rig.medusa_product(product["id"])
    assert (got["title"], got["description"], got["status"]) == (
        "VIP Rank",
        "Access to VIP features",
        "published",
    )
    assert (got["handle"], got["external_id"]) == (f"pixlpay-{product['id']}", f"pixlpay_{product['id']}")
    assert got["thumbnail"] == "https://cdn.pixlpay.test/vip.png"
    assert [i["url"] for i in got["images"]] == [
        "https://cdn.pixlpay.test/vip.png",
        "https://cdn.pixlpay.test/vip-2.png",
    ]
    [variant] = got["variants"]
    assert variant["sku"] == product["sku"]
    assert [(p["amount"], p["currency_code"]) for p in variant["prices"]] == [(9.99, "eur")]
    [category] = got["categories"]
    assert (category["name"], category["handle"]) == (
        product["category"]["name"],
        f"pixlpay-category-{product['category']['id']}",
    )
    assert (got["brand"]["name"], got["brand"]["external_id"]) == (
        BRAND,
        "pixlpay_brand_blockcraft_contract_store",
    )
    assert [c["id"] for c in got["sales_channels"]] == [rig.api.default_channel()]
    assert got["metadata"] == {
        "pixlpay_id": product["id"],
        "pixlpay_type": "digital",
        "pixlpay_deleted": False,
    }

    key = {"x-publishable-api-key": rig.api.publishable_key()}
    seen = rig.api.ok(rig.api.get(f"/store/products/{got['id']}", headers=key, fields="id,title"))["product"]
    assert (seen["id"], seen["title"]) == (got["id"], "VIP Rank")


def test_an_unchanged_resync_sends_nothing_to_medusa(rig: Rig) -> None:
    product = rig.vip()
    engine = rig.engine()
    rig.sync(engine, product["id"])
    before = rig.medusa_product(product["id"])
    sent = engine.destination.http.requests_sent  # type: ignore[attr-defined]

    assert rig.sync(engine, product["id"]) == "unchanged"

    assert engine.destination.http.requests_sent == sent  # type: ignore[attr-defined]
    assert rig.medusa_product(product["id"])["updated_at"] == before["updated_at"]


def test_a_rename_and_reprice_land_and_a_second_product_reuses_brand(rig: Rig) -> None:
    product, other = rig.vip(), rig.vip()
    engine = rig.engine()
    rig.sync(engine, product["id"])
    rig.clock.tick()
    rig.pixlpay.update_product(product["id"], name="VIP+ Rank", price="12.50")

    assert rig.sync(engine, product["id"]) == "updated"
    assert rig.sync(engine, other["id"]) == "created"

    got = rig.medusa_product(product["id"])
    assert got["title"] == "VIP+ Rank"
    assert [p["amount"] for p in got["variants"][0]["prices"]] == [12.5]
    assert rig.medusa_product(other["id"])["brand"]["id"] == got["brand"]["id"]
    brands = rig.api.ok(rig.api.get("/admin/brands", external_id="pixlpay_brand_blockcraft_contract_store"))
    assert brands["count"] == 1


def test_images_and_the_category_name_follow_the_source(rig: Rig) -> None:
    product = rig.vip()
    engine = rig.engine()
    rig.sync(engine, product["id"])
    rig.clock.tick()
    category = {**product["category"], "name": "Ranks renamed"}
    rig.pixlpay.update_product(product["id"], images=["https://cdn.pixlpay.test/new.png"], category=category)

    assert rig.sync(engine, product["id"]) == "updated"

    got = rig.medusa_product(product["id"])
    assert [i["url"] for i in got["images"]] == ["https://cdn.pixlpay.test/new.png"]
    assert got["thumbnail"] == "https://cdn.pixlpay.test/new.png"
    assert [c["name"] for c in got["categories"]] == ["Ranks renamed"]


def test_inactive_is_draft_and_a_stock_that_becomes_unknown_leaves_no_metadata_key(rig: Rig) -> None:
    product = rig.vip(stock=5)
    engine = rig.engine()
    rig.sync(engine, product["id"])
    assert rig.medusa_product(product["id"])["metadata"]["pixlpay_stock"] == 5
    rig.clock.tick()
    rig.pixlpay.update_product(product["id"], is_active=False, stock=None)

    assert rig.sync(engine, product["id"]) == "updated"

    got = rig.medusa_product(product["id"])
    assert got["status"] == "draft"
    assert "pixlpay_stock" not in got["metadata"]  # Medusa merges metadata: we sent "" to delete it
    rig.clock.tick()
    rig.pixlpay.update_product(product["id"], is_active=True)
    rig.sync(engine, product["id"])
    assert rig.medusa_product(product["id"])["status"] == "published"


def test_a_deleted_product_is_soft_deleted_and_restored(rig: Rig) -> None:
    product = rig.vip()
    engine = rig.engine()
    rig.sync(engine, product["id"])
    saved = rig.pixlpay.get_product(product["id"]) or {}
    rig.pixlpay.delete_product(product["id"])

    assert rig.sync(engine, product["id"]) == "deleted"
    hidden = rig.medusa_product(product["id"])
    assert (hidden["status"], hidden["metadata"]["pixlpay_deleted"]) == ("draft", True)

    rig.clock.tick()
    rig.pixlpay._products[product["id"]] = {**saved, "updated_at": rig.pixlpay._now()}
    assert rig.sync(engine, product["id"]) == "restored"
    back = rig.medusa_product(product["id"])
    assert (back["status"], back["metadata"]["pixlpay_deleted"], back["title"]) == (
        "published",
        False,
        "VIP Rank",
    )


def test_a_product_recreated_with_the_same_sku_is_created_beside_its_tombstone(rig: Rig) -> None:
    old = rig.vip()
    sku = old["sku"]
    engine = rig.engine()
    rig.sync(engine, old["id"])
    rig.pixlpay.delete_product(old["id"])
    assert rig.sync(engine, old["id"]) == "deleted"
    rig.clock.tick()
    new = rig.vip(sku=sku)  # Pixlpay gives it a new id; Medusa keeps variant SKUs unique

    assert rig.sync(engine, new["id"]) == "created"

    live, gone = rig.medusa_product(new["id"]), rig.medusa_product(old["id"])
    assert (live["status"], [v["sku"] for v in live["variants"]]) == ("published", [sku])
    assert gone["status"] == "draft" and [v["sku"] for v in gone["variants"]] != [sku]


def test_a_lost_create_response_is_found_by_handle_not_duplicated(rig: Rig) -> None:
    product = rig.vip()
    engine = rig.engine()
    dest = engine.destination.inner  # type: ignore[attr-defined]  # writes are fenced by a wrapper
    assert isinstance(dest, MedusaClient)
    real = dest.post_product

    def lost(payload: dict[str, Any]) -> dict[str, Any]:
        real(payload)
        raise ConnectionError("response lost")

    dest.post_product = lost  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        rig.sync(engine, product["id"])
    dest.post_product = real  # type: ignore[method-assign]

    assert rig.sync(engine, product["id"]) == "updated"
    listed = rig.api.ok(rig.api.get("/admin/products", external_id=f"pixlpay_{product['id']}", fields="id"))
    assert listed["count"] == 1


def test_a_connection_with_its_own_sales_channel_adds_to_it_and_keeps_the_merchants(rig: Rig) -> None:
    channel = rig.api.ok(rig.api.post("/admin/sales-channels", {"name": f"Web {uuid.uuid4().hex[:6]}"}))
    rig.channel = channel["sales_channel"]["id"]
    product = rig.vip()
    engine = rig.engine()
    rig.sync(engine, product["id"])
    got = rig.medusa_product(product["id"])
    assert [c["id"] for c in got["sales_channels"]] == [rig.channel]

    default = rig.api.default_channel()  # the merchant also lists it in the default channel
    rig.api.ok(rig.api.post(f"/admin/sales-channels/{default}/products", {"add": [got["id"]]}))
    rig.clock.tick()
    rig.pixlpay.update_product(product["id"], name="VIP Rank II")
    assert rig.sync(engine, product["id"]) == "updated"

    after = rig.medusa_product(product["id"])
    assert after["title"] == "VIP Rank II"
    assert sorted(c["id"] for c in after["sales_channels"]) == sorted([rig.channel, default])


def test_medusas_own_404_for_a_missing_brand_module_turns_brands_off_with_one_warning(
    medusa_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A Medusa without the Brand Module answers /admin/brands with Express's HTML 404; a path this Medusa
    does not serve gets that very answer."""
    endpoint = MedusaEndpoint(
        kind="medusa", api_url=f"{medusa_api.url}/no-brand-module", api_key=SecretStr(medusa_api.secret_key)
    )
    client = MedusaClient.for_endpoint(endpoint)
    with caplog.at_level(logging.WARNING, logger="catalog_sync.connectors.medusa"):
        assert client.ensure_brand(BRAND) is None
        assert client.ensure_brand(BRAND) is None
    [warning] = caplog.records
    assert "GET /admin/brands is 404" in warning.getMessage()
    assert client.http.requests_sent == 1
