"""Pixlpay -> Medusa: seed 000's products arrive in Medusa by `external_id` `pixlpay_<id>`, with brands per
seed 002 (the Brand Module's routes, brands known by external_id), against both simulators."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws
from pydantic import SecretStr

from catalog_sync.connections import Connection, MedusaEndpoint, PixlpayEndpoint, Signing
from catalog_sync.connectors.http import HttpStatusError
from catalog_sync.connectors.medusa import MedusaClient
from catalog_sync.connectors.pixlpay import PixlpayClient
from catalog_sync.errors import PermanentError, RetriableError
from catalog_sync.external_id_sync import ExternalIdSync
from catalog_sync.store.changelog import ChangeLog
from catalog_sync.store.state import LeaseHeld, StateStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.simulators.medusa.store import MedusaStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore
from tests.unit.test_engine_edge_cases import LosesTheFirstCommit
from tests.unit.test_engine_rig import TABLE, Clock, make_state_table

CONNECTION = "pixlpay-to-medusa"


@dataclass
class PixRig:
    pixlpay: PixlpayStore
    medusa: MedusaStore
    clock: Clock
    state: StateStore
    changes: ChangeLog

    def connection(self) -> Connection:
        return Connection(
            name=CONNECTION,
            source=PixlpayEndpoint(
                kind="pixlpay",
                api_url=self.pixlpay.api_url,
                api_token=SecretStr("pix-token"),
                max_requests_per_minute=1_000_000,
                brand="Blockcraft Store",
            ),
            destination=MedusaEndpoint(
                kind="medusa",
                api_url=self.medusa.api_url,
                api_key=SecretStr("sk_test"),
                max_requests_per_second=0,
            ),
            signing=Signing(scheme="pixlpay", secrets=[SecretStr("s")]),
            scopes=["product.*"],
        )

    def engine(self) -> ExternalIdSync:
        conn = self.connection()
        source = PixlpayClient.for_endpoint(conn.source)  # type: ignore[arg-type]
        dest = MedusaClient.for_endpoint(conn.destination)  # type: ignore[arg-type]
        for client in (source, dest):
            client.http.sleep = lambda s: None
        return ExternalIdSync(
            conn, source, dest, self.state, owner="w1", brand="Blockcraft Store", changes=self.changes
        )

    def medusa_writes(self, since: int = 0) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.medusa.request_log[since:] if m in ("POST", "DELETE")]


@pytest.fixture
def r() -> Iterator[PixRig]:
    clock = Clock()
    with (
        mock_aws(),
        PixlpayStore("pix-token", quota=100_000, clock=clock) as pixlpay,
        MedusaStore("sk_test", clock=clock) as medusa,
    ):
        client = make_state_table()
        yield PixRig(
            pixlpay,
            medusa,
            clock,
            StateStore(TABLE, client, clock=clock),
            ChangeLog(TABLE, client, clock=clock),
        )


def req(product_id: int) -> SyncRequest:
    return SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)


def vip(r: PixRig, **more: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "description": "Access to VIP features",
        "type": "digital",
        "category": {"id": 1, "name": "Ranks", "slug": "ranks"},
        "images": ["https://cdn.pixlpay.test/vip.png", "https://cdn.pixlpay.test/vip-2.png"],
        **more,
    }
    return r.pixlpay.create_product("VIP Rank", "9.99", **fields)


def test_pixlpay_client_pages_with_per_page_100_until_meta_last_page(r: PixRig) -> None:
    for n in range(230):
        r.pixlpay.create_product(f"Item {n}", n)
    client = r.engine().source
    assert isinstance(client, PixlpayClient)

    first = client.list_products(1)
    assert (len(first.items), first.current_page, first.total_pages, first.total) == (100, 1, 3, 230)
    assert len(list(client.iter_products())) == 230
    assert [p for m, p, _ in r.pixlpay.request_log][-3:] == ["/api/external/v1/products"] * 3
    assert client.list_products(1, per_page=500).items.__len__() == 100  # clamped to the API's maximum


def test_a_wrong_token_is_a_permanent_401(r: PixRig) -> None:
    client = PixlpayClient.for_endpoint(
        PixlpayEndpoint(kind="pixlpay", api_url=r.pixlpay.api_url, api_token=SecretStr("nope"))
    )
    with pytest.raises(HttpStatusError) as info:
        client.get_product(1)
    assert info.value.status == 401


def test_pixlpay_products_arrive_in_medusa_by_external_id_with_brand_and_category(r: PixRig) -> None:
    product = vip(r, sku="VIP-001")
    engine = r.engine()

    assert engine.sync(req(product["id"])).action == "created"

    copied = r.medusa.product_by_external_id(f"pixlpay_{product['id']}")
    assert copied is not None
    assert (copied["title"], copied["description"], copied["status"]) == (
        "VIP Rank",
        "Access to VIP features",
        "published",
    )
    assert copied["thumbnail"] == "https://cdn.pixlpay.test/vip.png"
    assert [i["url"] for i in copied["images"]] == [i["url"] for i in product["images"]]
    [variant] = copied["variants"]
    assert variant["sku"] == "VIP-001"
    assert [(p["amount"], p["currency_code"]) for p in variant["prices"]] == [(9.99, "usd")]
    [brand] = r.medusa.brands()
    assert (brand["name"], brand["external_id"]) == ("Blockcraft Store", "pixlpay_brand_blockcraft_store")
    assert copied["brand"]["id"] == brand["id"]
    [category] = r.medusa.categories()
    assert (category["name"], category["handle"]) == ("Ranks", "pixlpay-category-1")
    assert [(c["id"], c["name"]) for c in copied["categories"]] == [(category["id"], "Ranks")]
    assert [c["id"] for c in copied["sales_channels"]] == [r.medusa.default_sales_channel_id]

    mark = len(r.medusa.request_log)
    assert engine.sync(req(product["id"])).action == "unchanged"
    assert r.medusa_writes(mark) == []


def test_a_price_change_writes_only_the_variant_and_is_audited(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    engine.sync(req(product["id"]))
    r.clock.tick()
    r.pixlpay.update_product(product["id"], price="12.50")
    mark = len(r.medusa.request_log)

    assert engine.sync(req(product["id"])).action == "updated"

    [(method, path)] = r.medusa_writes(mark)
    assert method == "POST" and "/variants/" in path
    copied = r.medusa.product_by_external_id(f"pixlpay_{product['id']}")
    assert copied is not None and copied["variants"][0]["prices"][0]["amount"] == 12.5
    [latest, first] = r.changes.history(CONNECTION, "product", product["id"])
    assert (latest["action"], latest["fields"], first["action"]) == ("updated", ["price"], "created")
    assert latest["source_version"].startswith("2025-03-01T09:00:01")


def test_a_second_product_reuses_the_brand_and_category(r: PixRig) -> None:
    first, second = vip(r), vip(r, sku="X")
    engine = r.engine()
    engine.sync(req(first["id"]))
    engine.sync(req(second["id"]))
    assert len(r.medusa.brands()) == 1
    assert len(r.medusa.categories()) == 1
    assert len(r.medusa.products()) == 2


def test_an_inactive_or_deleted_product_is_hidden_and_a_reactivated_one_restored(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    engine.sync(req(product["id"]))
    external = f"pixlpay_{product['id']}"
    r.clock.tick()
    r.pixlpay.update_product(product["id"], is_active=False)
    engine.sync(req(product["id"]))
    assert (r.medusa.product_by_external_id(external) or {})["status"] == "draft"
    r.clock.tick()
    r.pixlpay.update_product(product["id"], is_active=True)
    engine.sync(req(product["id"]))
    assert (r.medusa.product_by_external_id(external) or {})["status"] == "published"

    saved = r.pixlpay.get_product(product["id"])
    r.pixlpay.delete_product(product["id"])
    assert engine.sync(req(product["id"])).action == "deleted"
    hidden = r.medusa.product_by_external_id(external) or {}
    assert (hidden["status"], hidden["metadata"]["pixlpay_deleted"]) == ("draft", True)
    assert engine.sync(req(product["id"])).action == "absent"

    r.clock.tick()
    r.pixlpay.create_product(**{k: v for k, v in (saved or {}).items() if k not in ("id", "images")})
    r.pixlpay._products[product["id"]] = r.pixlpay._products.pop(max(r.pixlpay._products))  # same id again
    r.pixlpay._products[product["id"]]["id"] = product["id"]
    assert engine.sync(req(product["id"])).action == "restored"
    back = r.medusa.product_by_external_id(external) or {}
    assert (back["status"], back["metadata"]["pixlpay_deleted"]) == ("published", False)
    assert len(r.medusa.products()) == 1


def test_a_lost_create_response_is_found_by_handle_not_duplicated(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    dest = engine.destination.inner  # type: ignore[attr-defined]  # writes are fenced by a wrapper
    assert isinstance(dest, MedusaClient)
    real = dest.post_product

    def lost(payload: dict[str, Any]) -> dict[str, Any]:
        real(payload)
        raise ConnectionError("response lost")

    dest.post_product = lost  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        engine.sync(req(product["id"]))
    dest.post_product = real  # type: ignore[method-assign]

    assert engine.sync(req(product["id"])).action == "updated"
    assert len(r.medusa.products()) == 1


def test_a_failed_step_leaves_state_the_retry_completes(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    engine.sync(req(product["id"]))
    r.clock.tick()
    r.pixlpay.update_product(product["id"], name="VIP+ Rank", price="11.00")
    r.medusa.fail_next("POST", r"/variants/", status=500, times=engine.destination.http.max_attempts)  # type: ignore[attr-defined]

    with pytest.raises(Exception, match="gave up"):
        engine.sync(req(product["id"]))
    mark = len(r.medusa.request_log)
    assert engine.sync(req(product["id"])).action == "updated"

    writes = r.medusa_writes(mark)
    assert len(writes) == 1 and "/variants/" in writes[0][1]  # the fields step is not repeated
    copied = r.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert (copied["title"], copied["variants"][0]["prices"][0]["amount"]) == ("VIP+ Rank", 11.0)


def test_update_product_writes_back_to_pixlpay_with_a_decimal_string_price(r: PixRig) -> None:
    product = vip(r)
    client = r.engine().source
    assert isinstance(client, PixlpayClient)
    updated = client.update_product(product["id"], {"name": "VIP", "price": 7.5, "is_active": False})
    assert (updated["name"], updated["price"], updated["is_active"]) == ("VIP", "7.50", False)


def test_a_product_missing_for_a_moment_is_restored_even_when_nothing_changed(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    engine.sync(req(product["id"]))
    r.pixlpay.fail_next("GET", rf"/products/{product['id']}$", status=404)  # a transient 404

    assert engine.sync(req(product["id"])).action == "deleted"
    assert engine.sync(req(product["id"])).action == "restored"

    back = r.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert (back["status"], back["metadata"]["pixlpay_deleted"]) == ("published", False)
    assert back["metadata"]["pixlpay_id"] == product["id"]


def test_a_product_deleted_in_medusa_is_created_again_on_its_next_change(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    engine.sync(req(product["id"]))
    external = f"pixlpay_{product['id']}"
    gone = (r.medusa.product_by_external_id(external) or {})["id"]
    with r.medusa._lock:
        del r.medusa._products[gone]  # deleted in Medusa's admin by a person
    r.clock.tick()
    r.pixlpay.update_product(product["id"], price="12.50")

    assert engine.sync(req(product["id"])).action == "created"

    again = r.medusa.product_by_external_id(external) or {}
    assert again["id"] != gone
    assert again["variants"][0]["prices"][0]["amount"] == 12.5
    assert engine.sync(req(product["id"])).action == "unchanged"


def test_a_product_recreated_with_the_same_sku_is_created_beside_its_tombstone(r: PixRig) -> None:
    # Medusa keeps variant SKUs unique (observed on 2.21.2): the soft-deleted product must free its SKU.
    old = vip(r, sku="VIP-1")
    engine = r.engine()
    engine.sync(req(old["id"]))
    r.pixlpay.delete_product(old["id"])
    assert engine.sync(req(old["id"])).action == "deleted"
    r.clock.tick()
    new = vip(r, sku="VIP-1")

    assert engine.sync(req(new["id"])).action == "created"

    live = r.medusa.product_by_external_id(f"pixlpay_{new['id']}") or {}
    gone = r.medusa.product_by_external_id(f"pixlpay_{old['id']}") or {}
    assert live["variants"][0]["sku"] == "VIP-1" and live["status"] == "published"
    assert gone["status"] == "draft" and gone["variants"][0]["sku"] != "VIP-1"


def test_a_restored_product_takes_its_sku_back(r: PixRig) -> None:
    product = vip(r, sku="VIP-1")
    engine = r.engine()
    engine.sync(req(product["id"]))
    r.pixlpay.fail_next("GET", rf"/products/{product['id']}$", status=404)  # a transient 404
    assert engine.sync(req(product["id"])).action == "deleted"

    assert engine.sync(req(product["id"])).action == "restored"

    back = r.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
    assert (back["status"], back["variants"][0]["sku"]) == ("published", "VIP-1")


def test_a_price_for_a_product_without_a_variant_adds_the_variant(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    engine.sync(req(product["id"]))
    external = f"pixlpay_{product['id']}"
    with r.medusa._lock:  # someone removed the variant in Medusa's admin
        r.medusa._products[(r.medusa.product_by_external_id(external) or {})["id"]]["variants"] = []
    r.clock.tick()
    r.pixlpay.update_product(product["id"], price="11.00")

    assert engine.sync(req(product["id"])).action == "updated"

    [variant] = (r.medusa.product_by_external_id(external) or {})["variants"]
    assert variant["prices"][0]["amount"] == 11.0


# --- a new product is published only once every part has landed (seed 002) --------------------------


def test_a_new_product_is_created_as_a_draft_and_published_last(r: PixRig) -> None:
    product = vip(r)

    assert r.engine().sync(req(product["id"])).action == "created"

    writes = r.medusa_writes()
    dest_id = (r.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {})["id"]
    creates = [i for i, w in enumerate(writes) if w == ("POST", "/admin/products")]
    publish = writes.index(("POST", f"/admin/products/{dest_id}"))
    assert creates and publish > creates[-1]  # the product's own create, then its publishing write
    assert (r.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {})["status"] == "published"


def test_a_new_product_whose_publishing_fails_stays_a_draft_until_the_retry(r: PixRig) -> None:
    product = vip(r)
    engine = r.engine()
    attempts = engine.destination.http.max_attempts  # type: ignore[attr-defined]
    r.medusa.fail_next("POST", r"^/admin/products/prod_[^/]+$", status=503, times=attempts)

    with pytest.raises(RetriableError):
        engine.sync(req(product["id"]))

    external = f"pixlpay_{product['id']}"
    assert (r.medusa.product_by_external_id(external) or {})["status"] == "draft"
    assert engine.sync(req(product["id"])).action == "updated"
    assert (r.medusa.product_by_external_id(external) or {})["status"] == "published"
    assert len(r.medusa.products()) == 1


def test_a_new_product_refused_for_good_is_left_a_draft_and_marked_compensated(r: PixRig) -> None:
    product = vip(r)
    r.medusa.fail_next("POST", r"^/admin/products/prod_[^/]+$", status=400)

    with pytest.raises(PermanentError):
        r.engine().sync(req(product["id"]))

    assert (r.medusa.product_by_external_id(f"pixlpay_{product['id']}") or {})["status"] == "draft"
    state = r.state.get(CONNECTION, "product", product["id"])
    assert state is not None and state.last_outcome == "compensated"
    assert r.changes.history(CONNECTION, "product", product["id"])[0]["action"] == "compensated"


def test_a_created_product_whose_state_commit_failed_is_still_hidden_by_the_source_delete(r: PixRig) -> None:
    """As for BigCommerce (make chaos, 20 x 1,000): the create and its publishing landed, the commit found
    the lease lost, the state never learnt the Medusa id. The delete finds it by the external id that the
    Pixlpay id determines, and hides it."""
    product = vip(r)
    engine = r.engine()
    engine.state = LosesTheFirstCommit(engine.state)  # type: ignore[assignment]
    with pytest.raises(LeaseHeld):
        engine.sync(req(product["id"]))
    external = f"pixlpay_{product['id']}"
    assert (r.medusa.product_by_external_id(external) or {})["status"] == "published"
    r.pixlpay.delete_product(product["id"])

    assert r.engine().sync(req(product["id"])).action == "deleted"

    hidden = r.medusa.product_by_external_id(external) or {}
    assert (hidden["status"], hidden["metadata"]["pixlpay_deleted"]) == ("draft", True)
