"""A simulated Medusa v2 application's Admin API on 127.0.0.1 (the parts catalog-sync uses).

    with MedusaStore(api_key="sk_test") as medusa:
        medusa.products()      # what the Admin API would list

Per the Medusa v2 Admin API reference: routes under `/admin`; a secret API key authenticates with
`Authorization: Basic base64("<key>:")` (a JWT `Bearer` is accepted too); lists take `limit` (default 15 here
as documented for the API; the products route's own default is 50), `offset`, `fields` and filters, and
answer `{<resources>, count, offset, limit}`; single resources answer `{<resource>}`; updates are `POST` to
the resource's URL; errors are `{type, message}` (`invalid_data` 400, `not_found` 404, `duplicate_error`
422, `unauthorized` 401).

- products: `GET/POST /admin/products`, `GET/POST /admin/products/{id}`, variant update `POST
  /admin/products/{id}/variants/{variant_id}` (answers the product). Products carry `external_id`,
  `handle` (unique), `status` (draft|proposed|published|rejected), `images[{url}]`, `thumbnail`,
  `categories`, `options`, `variants[{sku, prices[{amount, currency_code}]}]`, `metadata`.
- product categories: `GET/POST /admin/product-categories`, `POST /admin/product-categories/{id}`.
- brands: not built into Medusa; seed 002's custom Brand Module adds `GET/POST /admin/brands`, `POST/DELETE
  /admin/brands/{id}` (brands carry `external_id`, as seed 002's sync does), linked to a product through
  `additional_data.brand_id` on product create/update (Medusa's workflow hooks, as the brand tutorial
  does) and read back as `product.brand`.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from catalog_sync_local.pixlpay_sim import JsonStore

STATUSES = ("draft", "proposed", "published", "rejected")


class _Error(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class MedusaStore(JsonStore):
    server_name = "medusa-sim"

    def __init__(self, api_key: str = "sk_test", *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.api_key = api_key
        self.clock = clock
        self._products: dict[str, dict[str, Any]] = {}
        self._categories: dict[str, dict[str, Any]] = {}
        self._brands: dict[str, dict[str, Any]] = {}
        self._brand_of: dict[str, str] = {}  # product id -> brand id (the module link)
        self._seq = itertools.count(1)

    # --- reading the store --------------------------------------------------------------------------

    def products(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._product_view(p) for p in self._products.values()]

    def product_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        return next((p for p in self.products() if p["external_id"] == external_id), None)

    def categories(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._categories.values()))

    def brands(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._brands.values()))

    # --- HTTP ---------------------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not self._authorized(headers):
            return 401, {"type": "unauthorized", "message": "Unauthorized"}, {}
        injected = self._failures.take(method, path)
        if injected is not None:
            return injected, {"type": "unexpected_state", "message": "Injected failure"}, {}
        try:
            with self._lock:
                status, reply = self._route(method, path.rstrip("/"), query, body)
        except _Error as exc:
            return exc.status, {"type": exc.kind, "message": exc.message}, {}
        return status, reply, {}

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        basic = "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()
        return auth in (basic, f"Bearer {self.api_key}")

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = path.split("/")[1:]  # ["admin", resource, id?, sub?, sub_id?]
        if len(parts) < 2 or parts[0] != "admin":
            raise _Error(404, "not_found", f"Route {path} not found")
        resource, rest = parts[1], parts[2:]
        if method == "POST" and not isinstance(body, dict):
            raise _Error(400, "invalid_data", "Invalid request: expected an object")
        if resource == "products":
            return self._products_route(method, rest, query, body)
        if resource == "product-categories":
            return self._simple_route(method, rest, query, body, self._categories, "product_category", "pcat")
        if resource == "brands":
            return self._simple_route(method, rest, query, body, self._brands, "brand", "brand")
        raise _Error(404, "not_found", f"Route {path} not found")

    def _products_route(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                found = [
                    p for p in self._products.values() if _matches(p, query, ("handle", "external_id", "id"))
                ]
                return 200, _listing("products", [self._product_view(p) for p in found], query)
            if method == "POST":
                return 200, {"product": self._product_view(self._create_product(body))}
        product = self._products.get(rest[0])
        if product is None:
            raise _Error(404, "not_found", f"Product with id: {rest[0]} was not found")
        if len(rest) == 1 and method == "GET":
            return 200, {"product": self._product_view(product)}
        if len(rest) == 1 and method == "POST":
            return 200, {"product": self._product_view(self._update_product(product, body))}
        if len(rest) == 3 and rest[1] == "variants" and method == "POST":
            variant = next((v for v in product["variants"] if v["id"] == rest[2]), None)
            if variant is None:
                raise _Error(404, "not_found", f"Variant with id: {rest[2]} was not found")
            for key in ("title", "sku", "manage_inventory", "allow_backorder", "prices", "metadata"):
                if key in body:
                    variant[key] = copy.deepcopy(body[key])
            variant["updated_at"] = product["updated_at"] = self._now()
            return 200, {"product": self._product_view(product)}
        raise _Error(404, "not_found", "Route not found")

    def _create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("title"), str) or not body["title"]:
            raise _Error(400, "invalid_data", "Invalid request: Field 'title' is required")
        handle = body.get("handle") or re.sub(r"[^a-z0-9]+", "-", body["title"].lower()).strip("-")
        if any(p["handle"] == handle for p in self._products.values()):
            raise _Error(422, "duplicate_error", f"Product with handle: {handle}, already exists.")
        options = [{"id": self._id("opt"), "title": o["title"], "values": list(o.get("values") or [])}
                   for o in body.get("options") or []]  # fmt: skip
        now = self._now()
        product = {
            "id": self._id("prod"),
            "title": body["title"],
            "handle": handle,
            "subtitle": None,
            "description": body.get("description"),
            "status": body.get("status", "draft"),
            "external_id": body.get("external_id"),
            "thumbnail": body.get("thumbnail"),
            "images": [{"id": self._id("img"), "url": i["url"]} for i in body.get("images") or []],
            "categories": [],
            "options": options,
            "variants": [],
            "metadata": body.get("metadata"),
            "created_at": now,
            "updated_at": now,
        }
        self._check_status(product["status"])
        product["categories"] = self._category_refs(body.get("categories") or [])
        for variant in body.get("variants") or []:
            product["variants"].append(
                {
                    "id": self._id("variant"),
                    "title": variant.get("title", "Default"),
                    "sku": variant.get("sku"),
                    "manage_inventory": variant.get("manage_inventory", True),
                    "allow_backorder": variant.get("allow_backorder", False),
                    "prices": copy.deepcopy(variant.get("prices") or []),
                    "options": copy.deepcopy(variant.get("options") or {}),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        self._products[product["id"]] = product
        self._link_brand(product["id"], body.get("additional_data"))
        return product

    def _update_product(self, product: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "status" in body:
            self._check_status(body["status"])
        if "handle" in body and any(
            p["handle"] == body["handle"] and p["id"] != product["id"] for p in self._products.values()
        ):
            raise _Error(422, "duplicate_error", f"Product with handle: {body['handle']}, already exists.")
        for key in ("title", "handle", "description", "status", "external_id", "thumbnail", "metadata"):
            if key in body:
                product[key] = copy.deepcopy(body[key])
        if "images" in body:
            product["images"] = [{"id": self._id("img"), "url": i["url"]} for i in body["images"]]
        if "categories" in body:
            product["categories"] = self._category_refs(body["categories"])
        self._link_brand(product["id"], body.get("additional_data"))
        product["updated_at"] = self._now()
        return product

    def _link_brand(self, product_id: str, additional: Any) -> None:
        if not isinstance(additional, dict) or "brand_id" not in additional:
            return
        brand_id = additional["brand_id"]
        if brand_id is None:
            self._brand_of.pop(product_id, None)
            return
        if brand_id not in self._brands:
            raise _Error(404, "not_found", f"Brand with id: {brand_id} was not found")
        self._brand_of[product_id] = brand_id

    def _category_refs(self, refs: list[Any]) -> list[dict[str, Any]]:
        out = []
        for ref in refs:
            cid = ref.get("id") if isinstance(ref, dict) else None
            if cid not in self._categories:
                raise _Error(404, "not_found", f"ProductCategory with id: {cid} was not found")
            out.append({"id": cid})
        return out

    def _check_status(self, status: Any) -> None:
        if status not in STATUSES:
            raise _Error(400, "invalid_data", f"Invalid request: status must be one of {', '.join(STATUSES)}")

    def _simple_route(
        self,
        method: str,
        rest: list[str],
        query: dict[str, str],
        body: Any,
        table: dict[str, dict[str, Any]],
        name: str,
        prefix: str,
    ) -> tuple[int, Any]:
        plural = "product_categories" if name == "product_category" else f"{name}s"
        if not rest and method == "GET":
            matching = [
                r for r in table.values() if _matches(r, query, ("handle", "external_id", "name", "id"))
            ]
            return 200, _listing(plural, copy.deepcopy(matching), query)
        if not rest and method == "POST":
            if not isinstance(body.get("name"), str) or not body["name"]:
                raise _Error(400, "invalid_data", "Invalid request: Field 'name' is required")
            if name == "product_category":
                handle = body.get("handle") or re.sub(r"[^a-z0-9]+", "-", body["name"].lower()).strip("-")
                if any(c["handle"] == handle for c in table.values()):
                    raise _Error(
                        422, "duplicate_error", f"Product category with handle: {handle}, already exists."
                    )
                record = {"handle": handle, "description": body.get("description", ""),
                          "is_active": body.get("is_active", False), "parent_category_id": None}  # fmt: skip
            else:
                record = {"external_id": body.get("external_id")}
            now = self._now()
            record.update(id=self._id(prefix), name=body["name"], metadata=body.get("metadata"),
                          created_at=now, updated_at=now)  # fmt: skip
            table[record["id"]] = record
            return 200, {name: copy.deepcopy(record)}
        found = table.get(rest[0]) if rest else None
        if found is None:
            raise _Error(404, "not_found", f"{name} with id: {rest[0] if rest else ''} was not found")
        if len(rest) == 1 and method == "GET":
            return 200, {name: copy.deepcopy(found)}
        if len(rest) == 1 and method == "POST":
            for key in ("name", "handle", "description", "is_active", "external_id", "metadata"):
                if key in body and (key in found or key == "metadata"):
                    found[key] = copy.deepcopy(body[key])
            found["updated_at"] = self._now()
            return 200, {name: copy.deepcopy(found)}
        if len(rest) == 1 and method == "DELETE":
            del table[rest[0]]
            return 200, {"id": rest[0], "object": name, "deleted": True}
        raise _Error(404, "not_found", "Route not found")

    def _product_view(self, product: Mapping[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(dict(product))
        brand_id = self._brand_of.get(product["id"])
        view["brand"] = copy.deepcopy(self._brands.get(brand_id)) if brand_id else None
        return view

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._seq):026d}"

    def _now(self) -> str:
        return (
            datetime.fromtimestamp(self.clock(), UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )


def _matches(record: Mapping[str, Any], query: Mapping[str, str], filters: tuple[str, ...]) -> bool:
    return all(record.get(f) == query[f] for f in filters if f in query)


def _listing(key: str, items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    offset = max(0, int(query.get("offset", "0") or 0))
    limit = max(1, int(query.get("limit", "15") or 15))
    return {key: items[offset : offset + limit], "count": len(items), "offset": offset, "limit": limit}
