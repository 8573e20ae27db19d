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
- brand (seed 002): Medusa has no brands; the Brand Module adds `/admin/brands`. Brands carry
  `external_id` (seed 002 splits create/update by it); a product is linked to its brand through
  `additional_data.brand_id` on product create/update, as Medusa's brand customization does. Pixlpay has
  no brands, so the brand is the connection's (`PixlpayEndpoint.brand`, e.g. the store's name), with
  external_id `pixlpay_brand_<slug>`.
- soft delete: `status: draft` plus `metadata.pixlpay_deleted: true`; restored by the next sync.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.http import JsonHttpClient
from catalog_sync.models import FlatProduct, Grouping

PRODUCT_FIELDS = "id,handle,external_id,status,*variants,*categories"
SOFT_DELETE: dict[str, Any] = {"status": "draft", "metadata": {"pixlpay_deleted": True}}


def handle_for(external_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", external_id.lower()).strip("-")


def brand_external_id(name: str) -> str:
    return "pixlpay_brand_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class MedusaClient:
    def __init__(self, http: JsonHttpClient, *, currency_code: str = "usd") -> None:
        self.http = http
        self.currency_code = currency_code

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
        return cls(http, currency_code=endpoint.currency_code)

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

    def create_brand(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", "brands", json=payload)["brand"])

    def update_brand(self, brand_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", f"brands/{brand_id}", json=payload)["brand"])

    # --- the engine's ProductDestination protocol ---------------------------------------------------

    def ensure_category(self, category: Grouping) -> str:
        handle = f"pixlpay-category-{category.source_id}"
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

    def ensure_brand(self, name: str) -> str:
        """Seed 002: a brand known by external_id is updated, otherwise created."""
        external = brand_external_id(name)
        found = [b for b in self.list_brands(external_id=external) if b.get("external_id") == external]
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
        metadata = {"pixlpay_id": product.source_id, "pixlpay_type": product.type, "pixlpay_deleted": False}
        if product.stock is not None:
            metadata["pixlpay_stock"] = product.stock
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
            "additional_data": {"brand_id": brand_id},
        }
        prices = [{"amount": product.price, "currency_code": self.currency_code}]
        price = {"sku": product.sku or product.external_id, "prices": prices}
        return {"fields": fields, "price": price}

    def create_product(self, parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
        variant = {
            "title": "Default",
            "sku": parts["price"]["sku"],
            "manage_inventory": False,
            "options": {"Default": "Default"},
            "prices": parts["price"]["prices"],
        }
        payload = {
            **parts["fields"],
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

    def soft_delete(self, dest_id: str) -> None:
        self.update_product(dest_id, SOFT_DELETE)


def _ids(product: dict[str, Any]) -> dict[str, Any]:
    variants = product.get("variants") or []
    return {"variant_id": variants[0]["id"]} if variants else {}
