"""Medusa v2 Admin API connector (destination), over the shared JsonHttpClient.

Facts (docs.medusajs.com/api/admin): routes under `/admin`; a secret API key authenticates server-to-server
as `Authorization: Basic base64("<key>:")`; lists take `limit`, `offset`, `fields` and filters and answer
`{<resources>, count, offset, limit}`; updates are `POST /admin/<resource>/{id}`; v2 prices are in major
units.

How a flat source product (Pixlpay) lands in Medusa:
- product: `external_id` = `pixlpay_<id>` (seed 000), `handle` = `pixlpay-<id>` (unique in Medusa, and a
  documented filter of `GET /admin/products`, so an unmapped product is found again after a lost create
  response), `status` published/draft from `is_active`, images and thumbnail, one option "Default" and one
  variant carrying the SKU and the price;
- category: the source's category becomes a product category with handle `pixlpay-category-<id>`;
- brand (seed 002): Medusa has no brands; our Brand Module (integrations/medusa-brand) adds `/admin/brands`
  with an `external_id` filter. Brands carry `external_id` (seed 002 splits create/update by it); a product
  is linked to its brand through `additional_data.brand_id` on product create/update (the module's workflow
  hooks). Pixlpay has no brands, so the brand is the connection's (`PixlpayEndpoint.brand`, e.g. the
  store's name), with external_id `pixlpay_brand_<slug>`. A Medusa without that module (`/admin/brands` is
  Express's HTML 404, or the docs tutorial's route refuses the `external_id` filter with a 400) gets no
  brands: one warning per client, and every product still syncs. No brand -> no `additional_data` at all
  (the tutorial's validator refuses `brand_id: null`).
- sales channel: the connection's `sales_channel_id`, else the store's default channel (read once from
  `GET /admin/stores`). A product is created in it, and later added to it (`POST
  /admin/sales-channels/{id}/products {add}`, which keeps channels the merchant added), so the storefront
  sees it: a product in no channel is a 404 on `/store/products/{id}`.
- metadata: Medusa merges `metadata` on update and deletes a key only when sent `""`, so a key we stop
  using (`pixlpay_stock` once the stock is unknown) is sent as `""`.
- soft delete: `status: draft` plus `metadata.pixlpay_deleted: true`; restored by the next sync.

Two-way (issue 12; medusa_changes.py): `get_product_state` reads what flows back to Pixlpay, and
`update_product_fields` writes just those fields; `changed_products` is the cursor pull on `updated_at`.
"""

from __future__ import annotations

import base64
import logging
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.http import HttpStatusError, JsonHttpClient
from catalog_sync.connectors.medusa_changes import (
    STATE_FIELDS,
    STATUSES,
    ChangedProducts,
    MedusaProductState,
    UpdatedAtCursor,
    changed_products,
    product_state,
)
from catalog_sync.errors import PermanentError
from catalog_sync.models import FlatProduct, Grouping

PRODUCT_FIELDS = "id,handle,external_id,status,*variants,*categories"
SOFT_DELETE: dict[str, Any] = {"status": "draft", "metadata": {"pixlpay_deleted": True}}
TOMBSTONE_SKU = "~deleted~"
# A flat product's one variant, on its one option (Medusa needs both).
DEFAULT_VARIANT: dict[str, Any] = {
    "title": "Default",
    "manage_inventory": False,
    "options": {"Default": "Default"},
}
DELETE_KEY = ""  # Medusa merges metadata on update: a key sent as "" is deleted

logger = logging.getLogger(__name__)


class NoSalesChannel(PermanentError):
    code = "no_sales_channel"


class MedusaWriteInvalid(PermanentError):
    """A two-way write refused before it was sent: an unknown field or a value Medusa cannot take."""

    code = "medusa_write_invalid"


class MedusaProductNotFound(PermanentError):
    code = "medusa_product_not_found"


class MedusaNoVariant(PermanentError):
    """A price write to a product without a variant to carry it."""

    code = "medusa_no_variant"


def handle_for(external_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", external_id.lower()).strip("-")


def category_handle(source_id: int) -> str:
    """The Medusa product category a source category becomes (found again by this handle)."""
    return f"pixlpay-category-{source_id}"


def brand_external_id(name: str) -> str:
    return "pixlpay_brand_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class MedusaClient:
    def __init__(
        self, http: JsonHttpClient, *, currency_code: str = "usd", sales_channel_id: str | None = None
    ) -> None:
        self.http = http
        self.currency_code = currency_code
        self._channel: str | None = sales_channel_id
        self.brands_off: str | None = None  # why this Medusa keeps no brands, once found out

    @classmethod
    def for_endpoint(
        cls, endpoint: MedusaEndpoint, *, deadline: Callable[[], float] | None = None
    ) -> MedusaClient:
        key = base64.b64encode(f"{endpoint.api_key.get_secret_value()}:".encode()).decode()
        headers = {
            "Authorization": f"Basic {key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        interval = 1.0 / endpoint.max_requests_per_second if endpoint.max_requests_per_second > 0 else 0.0
        http = JsonHttpClient(
            base_url=f"{endpoint.api_url.rstrip('/')}/admin",
            headers=headers,
            deadline=deadline,
            min_interval_s=interval,
        )
        return cls(http, currency_code=endpoint.currency_code, sales_channel_id=endpoint.sales_channel_id)

    # --- plain endpoints ----------------------------------------------------------------------------

    def list_products(self, **filters: Any) -> list[dict[str, Any]]:
        params = {"fields": PRODUCT_FIELDS, "limit": 50, **filters}
        return list(self.http.request("GET", "products", params=params)["products"])

    def get_product(self, product_id: str) -> dict[str, Any]:
        return dict(
            self.http.request("GET", f"products/{product_id}", params={"fields": PRODUCT_FIELDS})["product"]
        )

    def post_product(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", "products", json=payload)["product"])

    def update_product(self, product_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", f"products/{product_id}", json=payload)["product"])

    def update_variant(self, product_id: str, variant_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        path = f"products/{product_id}/variants/{variant_id}"
        return dict(self.http.request("POST", path, json=payload)["product"])

    def list_brands(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.http.request("GET", "brands", params={"limit": 100, **filters})["brands"])

    def add_to_sales_channel(self, channel_id: str, product_ids: list[str]) -> None:
        self.http.request("POST", f"sales-channels/{channel_id}/products", json={"add": product_ids})

    def sales_channel(self) -> str:
        """The connection's sales channel, else the store's default one (read once)."""
        if self._channel is None:
            stores = self.http.request("GET", "stores", params={"fields": "id,default_sales_channel_id"})
            found = [s["default_sales_channel_id"] for s in stores.get("stores") or []]
            if not found or not found[0]:
                raise NoSalesChannel(
                    "the Medusa store has no default sales channel: set sales_channel_id on the connection's "
                    "Medusa endpoint (products in no channel are invisible to the storefront)"
                )
            self._channel = str(found[0])
        return self._channel

    # --- two-way: what flows back to Pixlpay, and the cursor pull ------------------------------------

    def get_product_state(self, product_id: str) -> MedusaProductState | None:
        """Title, description, status, the first variant's price in the connection's currency, external_id
        and times of one product; None when Medusa has no such product (404)."""
        try:
            body = self.http.request("GET", f"products/{product_id}", params={"fields": STATE_FIELDS})
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        return product_state(body["product"], self.currency_code)

    def update_product_fields(self, product_id: str, fields: Mapping[str, Any]) -> MedusaProductState:
        """Write some of `title`, `description`, `status` (one POST to the product) and `price` (the
        first variant's price in the connection's currency; its prices in other currencies are kept);
        answer the product's state afterwards. Raises MedusaWriteInvalid before sending anything,
        MedusaProductNotFound (404), MedusaNoVariant (a price for a product without a variant)."""
        product_part, price = _two_way_write(fields)
        try:
            if product_part:
                self.update_product(product_id, product_part)
            if price is not None:
                self._write_price(product_id, price)
            state = self.get_product_state(product_id)
        except HttpStatusError as exc:
            if exc.status == 404:
                raise MedusaProductNotFound(f"medusa product {product_id} not found") from exc
            raise
        if state is None:
            raise MedusaProductNotFound(f"medusa product {product_id} not found")
        return state

    def _write_price(self, product_id: str, amount: float) -> None:
        product = self.http.request("GET", f"products/{product_id}", params={"fields": STATE_FIELDS})[
            "product"
        ]
        variants = product.get("variants") or []
        if not variants:
            raise MedusaNoVariant(f"medusa product {product_id} has no variant to carry a price")
        variant = variants[0]
        kept = [
            {"id": p["id"], "amount": p["amount"], "currency_code": p["currency_code"]}
            for p in variant.get("prices") or []
            if p.get("currency_code") != self.currency_code
        ]
        prices = [*kept, {"amount": amount, "currency_code": self.currency_code}]
        self.update_variant(product_id, str(variant["id"]), {"prices": prices})

    def changed_products(self, since: UpdatedAtCursor | None, *, limit: int = 50) -> ChangedProducts:
        """One page of the products changed after `since` (None: from the start), in (updated_at, id)
        order, with the cursor to checkpoint and pass next; see medusa_changes.py for how ties are read."""
        return changed_products(self.http, self.currency_code, since, limit=limit)

    def create_brand(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", "brands", json=payload)["brand"])

    def update_brand(self, brand_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", f"brands/{brand_id}", json=payload)["brand"])

    # --- the engine's ProductDestination protocol ---------------------------------------------------

    def ensure_category(self, category: Grouping) -> str:
        handle = category_handle(category.source_id)
        body = self.http.request("GET", "product-categories", params={"handle": handle, "limit": 1})
        found = body.get("product_categories") or []
        payload = {"name": category.name, "handle": handle, "is_active": True}
        if found:
            if found[0].get("name") != category.name:
                self.http.request(
                    "POST", f"product-categories/{found[0]['id']}", json={"name": category.name}
                )
            return str(found[0]["id"])
        created = self.http.request("POST", "product-categories", json=payload)["product_category"]
        return str(created["id"])

    def ensure_brand(self, name: str) -> str | None:
        """Seed 002: a brand known by external_id is updated, otherwise created. None when this Medusa
        keeps no brands we can find by external_id (warned once; products sync without a brand)."""
        if self.brands_off is not None:
            return None
        external = brand_external_id(name)
        try:
            listed = self.list_brands(external_id=external)
        except HttpStatusError as exc:
            self.brands_off = _no_brand_module(exc)
            if self.brands_off is None:
                raise
            logger.warning(
                "Medusa at %s: %s. Brands are off for this connection: products sync without brand '%s'. "
                "Install catalog-sync's Brand Module (integrations/medusa-brand) to sync brands.",
                self.http.base_url, self.brands_off, name,
            )  # fmt: skip
            return None
        found = [b for b in listed if b.get("external_id") == external]
        if found:
            if found[0].get("name") != name:
                self.update_brand(str(found[0]["id"]), {"name": name})
            return str(found[0]["id"])
        return str(self.create_brand({"name": name, "external_id": external})["id"])

    def find_product(self, external_id: str) -> dict[str, Any] | None:
        """An unmapped product, by its deterministic handle (checked against external_id)."""
        for product in self.list_products(handle=handle_for(external_id)):
            if product.get("external_id") == external_id:
                return {"id": product["id"], "ids": _ids(product)}
        return None

    def product_parts(
        self, product: FlatProduct, *, category_id: str | None, brand_id: str | None
    ) -> dict[str, dict[str, Any]]:
        """What the destination should hold, split in parts written separately (an unchanged part is
        not written): `fields` (the product itself, links included) and `price` (its one variant)."""
        metadata = {
            "pixlpay_id": product.source_id,
            "pixlpay_type": product.type,
            "pixlpay_deleted": False,
            "pixlpay_stock": DELETE_KEY if product.stock is None else product.stock,
        }
        fields: dict[str, Any] = {
            "title": product.name,
            "handle": handle_for(product.external_id),
            "external_id": product.external_id,
            "description": product.description,
            "status": "published" if product.active else "draft",
            "thumbnail": product.image_urls[0] if product.image_urls else None,
            "images": [{"url": u} for u in product.image_urls],
            "categories": [{"id": category_id}] if category_id else [],
            "metadata": metadata,
        }
        if brand_id:
            fields["additional_data"] = {"brand_id": brand_id}
        prices = [{"amount": product.price, "currency_code": self.currency_code}]
        price = {"sku": product.sku or product.external_id, "prices": prices}
        return {"fields": fields, "price": price, "channel": {"sales_channel_id": self.sales_channel()}}

    def unpublished(self, parts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The parts to create a product with: a draft, published by its fields write once the rest
        has landed (a draft is not in the storefront)."""
        if parts["fields"].get("status") != "published":
            return parts
        return {**parts, "fields": {**parts["fields"], "status": "draft"}}

    def create_product(self, parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
        variant = {**DEFAULT_VARIANT, "sku": parts["price"]["sku"], "prices": parts["price"]["prices"]}
        fields = parts["fields"]
        metadata = {k: v for k, v in fields["metadata"].items() if v != DELETE_KEY}  # create stores "" as is
        payload = {
            **fields,
            "metadata": metadata,
            "sales_channels": [{"id": parts["channel"]["sales_channel_id"]}],
            "options": [{"title": "Default", "values": ["Default"]}],
            "variants": [variant],
        }
        created = self.post_product(payload)
        return {"id": created["id"], "ids": _ids(created)}

    def write_part(self, dest_id: str, name: str, payload: dict[str, Any], ids: dict[str, Any]) -> None:
        if name == "fields":
            self.update_product(dest_id, payload)
        elif name == "price":
            variant_id = ids.get("variant_id") or _ids(self.get_product(dest_id)).get("variant_id")
            if variant_id:
                self.update_variant(dest_id, str(variant_id), payload)
            else:  # the product lost its variant (removed in Medusa's admin): the price needs one
                path = f"products/{dest_id}/variants"
                self.http.request("POST", path, json={**DEFAULT_VARIANT, **payload})
        elif name == "channel":
            self.add_to_sales_channel(payload["sales_channel_id"], [dest_id])

    def soft_delete(self, dest_id: str) -> None:
        """Draft and marked deleted; its variants' SKUs are renamed `<sku>~deleted~<product id>`, since
        Medusa keeps variant SKUs unique and a product re-created at the source (a new id, the same SKU)
        must be creatable beside this tombstone. A restore writes the price part, SKU included, again."""
        product = self.update_product(dest_id, SOFT_DELETE)
        variants = product.get("variants")
        if variants is None:  # not among the fields this Medusa answers with
            variants = self.get_product(dest_id).get("variants")
        for variant in variants or []:
            sku = variant.get("sku")
            if sku and TOMBSTONE_SKU not in sku:
                self.update_variant(dest_id, str(variant["id"]), {"sku": f"{sku}{TOMBSTONE_SKU}{dest_id}"})


def _two_way_write(fields: Mapping[str, Any]) -> tuple[dict[str, Any], float | None]:
    """(the product's own fields to POST, the price or None), validated."""
    if not isinstance(fields, Mapping) or not fields:
        raise MedusaWriteInvalid("a medusa write needs at least one of title, description, status, price")
    unknown = sorted(set(fields) - {"title", "description", "status", "price"})
    if unknown:
        raise MedusaWriteInvalid(f"medusa two-way write cannot change {', '.join(map(str, unknown))}")
    product: dict[str, Any] = {}
    if "title" in fields:
        if not isinstance(fields["title"], str) or not fields["title"].strip():
            raise MedusaWriteInvalid("title must be a non-blank string")
        product["title"] = fields["title"]
    if "description" in fields:
        if fields["description"] is not None and not isinstance(fields["description"], str):
            raise MedusaWriteInvalid("description must be a string or null")
        product["description"] = fields["description"]
    if "status" in fields:
        if fields["status"] not in STATUSES:
            raise MedusaWriteInvalid(f"status must be one of {', '.join(STATUSES)}")
        product["status"] = fields["status"]
    price: float | None = None
    if "price" in fields:
        value = fields["price"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise MedusaWriteInvalid("price must be a finite number >= 0 (major units)")
        price = float(value)
    return product, price


def _no_brand_module(exc: HttpStatusError) -> str | None:
    """Why a failed `GET /admin/brands?external_id=` means this Medusa has no usable brands, if it does."""
    if exc.status == 404:
        return "GET /admin/brands is 404 (no Brand Module installed)"
    if exc.status == 400 and "external_id" in exc.body:
        return "GET /admin/brands refuses the external_id filter (a Brand Module without external_id)"
    return None


def _ids(product: dict[str, Any]) -> dict[str, Any]:
    variants = product.get("variants") or []
    return {"variant_id": variants[0]["id"]} if variants else {}
