"""A simulated Medusa v2 application on 127.0.0.1 (the parts catalog-sync uses), matching what a real
Medusa 2.21.2 did under the contract tests (tests/contract/medusa; `make contract`).

    with MedusaStore(api_key="sk_test") as medusa:
        medusa.products()      # what the Admin API would list (full views, brand included)

- Auth: a secret API key as `Authorization: Basic base64("<key>:")` (the colon is optional); `Bearer <key>`
  is 401 (Bearer is for JWTs). Errors are `{type, message}`: `invalid_data` 400, `not_found` 404,
  `unauthorized` 401. A route that does not exist is Express's HTML 404 (`Cannot GET /admin/x`).
- Lists and retrieves honour `fields` and page by 50 (brands: 20); category and brand lists refuse an
  undeclared query parameter (400), the products list ignores it; see simulators/medusa/fields.py.
- A product needs `options` (400 "Product options are not provided for: [<title>].").
- products: `GET/POST /admin/products`, `GET/POST /admin/products/{id}`, `POST
  /admin/products/{id}/variants/{variant_id}` (answers the product). A duplicate handle is 400
  `invalid_data`. `metadata` is merged on update (`""` deletes a key, null stores null). Categories and
  sales channels come back as full objects, option values as objects, prices as objects with a new id per
  update. `sales_channels: [{id}]` on create/update sets the product's channels.
- `DELETE /admin/products/{id}` soft-deletes (`{id, object: "product", deleted: true}`, then 404). The
  products list takes `updated_at[$gt|$gte|$lt|$lte|$eq]`, `order` (one field; `a,b` is a 500) and refuses
  `id[$op]` (400); ties in `updated_at` come in no id order (here: by id descending). A variant update moves
  the variant's `updated_at`, not the product's. See simulators/medusa/forwarder.py.
- webhook forwarding (our subscriber, integrations/medusa-brand): with `webhook_url`, every product
  create/update/delete and variant change through the API is POSTed there as the subscriber sends it,
  signed per Standard Webhooks with `webhook_secret`, retried a few times; `deliveries` lists them. A
  create sends product.created, then product.updated per variant (its product-variant.created).
- product categories: `GET/POST /admin/product-categories`, `GET/POST /admin/product-categories/{id}`.
- stores and sales channels: `GET /admin/stores` (one store, `default_sales_channel_id`), `GET
  /admin/sales-channels`, `POST /admin/sales-channels/{id}/products {add, remove}`. A fresh store has one
  default sales channel.
- storefront: `GET /store/products/{id}` with `x-publishable-api-key` (`publishable_key`, linked to the
  default channel) finds only a published product in one of the key's channels, else 404.
- brands, per `brand_module`: "catalog-sync" is integrations/medusa-brand (`GET /admin/brands` with `id`,
  `name`, `external_id` filters, `POST /admin/brands`, `GET/POST /admin/brands/{id}`, product create/update
  hooks: `additional_data.brand_id` links, null unlinks); "tutorial" is Medusa's docs tutorial (no filters,
  brands have only a name, `brand_id` must be a string and is consumed on create only); None: no brand
  routes at all (HTML 404), `additional_data` accepted and ignored. The brand reads back as
  `product.brand` when asked (`fields=*brand`).
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from catalog_sync_local.simulators.medusa.fields import QueryError, check_query, everything, paged, shape
from catalog_sync_local.simulators.medusa.forwarder import (
    ForwarderDispatcher,
    OrderError,
    check_product_query,
    forwarded_body,
    ordered,
    time_filters_match,
)
from catalog_sync_local.simulators.shared.delivery import DeliveringSimulator
from catalog_sync_local.simulators.shared.json_server import JsonStore

STATUSES = ("draft", "proposed", "published", "rejected")
BrandModule = Literal["catalog-sync", "tutorial"] | None
CATEGORY_FILTERS = (
    "id",
    "q",
    "handle",
    "name",
    "is_active",
    "parent_category_id",
    "include_descendants_tree",
)
HTML_404 = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n'
    "<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
)
Reply = tuple[int, Any, dict[str, str]]


class _Error(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class _NoRoute(Exception):
    """Express's answer to a route nobody registered."""


class MedusaStore(DeliveringSimulator, JsonStore):  # deliveries: our subscriber's webhook forwarding
    server_name = "medusa-sim"

    def __init__(
        self,
        api_key: str = "sk_test",
        *,
        clock: Callable[[], float] = time.time,
        brand_module: BrandModule = "catalog-sync",
        publishable_key: str = "pk_test",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        delivery_attempts: int = 3,
        delivery_backoff_s: float = 0.05,
    ) -> None:
        super().__init__()
        self.webhook_url = webhook_url
        self._dispatcher: ForwarderDispatcher = ForwarderDispatcher(
            secret=webhook_secret, max_attempts=delivery_attempts, backoff_s=delivery_backoff_s
        )
        self.api_key = api_key
        self.clock = clock
        self.brand_module = brand_module
        self.publishable_key = publishable_key
        self._seq = itertools.count(1)
        self._products: dict[str, dict[str, Any]] = {}
        self._deleted: dict[str, dict[str, Any]] = {}  # soft-deleted products (deleted_at set)
        self._categories: dict[str, dict[str, Any]] = {}
        self._brands: dict[str, dict[str, Any]] = {}
        self._brand_of: dict[str, str] = {}  # product id -> brand id (the module link)
        self._channels_of: dict[str, list[str]] = {}  # product id -> sales channel ids (links)
        now = self._now()
        channel: dict[str, Any] = {
            "id": self._id("sc"),
            "name": "Default Sales Channel",
            "description": "Created by Medusa",
            "is_disabled": False,
            "metadata": None,
            "created_at": now,
            "updated_at": now,
        }
        self._channels: dict[str, dict[str, Any]] = {channel["id"]: channel}
        self.default_sales_channel_id = str(channel["id"])
        self._store = {
            "id": self._id("store"),
            "name": "Medusa Store",
            "default_sales_channel_id": channel["id"],
            "default_region_id": None,
            "metadata": None,
            "created_at": now,
            "updated_at": now,
        }

    def _forward(self, event_name: str, product: Mapping[str, Any]) -> None:
        """What our subscriber does (integrations/medusa-brand/src/subscribers): a variant event is sent as
        product.updated of its product; nothing without a webhook URL."""
        if not self.webhook_url:
            return
        self._dispatcher.enqueue_event(self.webhook_url, forwarded_body(event_name, product, self._now()))

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

    def add_sales_channel(self, name: str) -> str:
        with self._lock:
            now = self._now()
            channel: dict[str, Any] = {
                "id": self._id("sc"),
                "name": name,
                "description": None,
                "is_disabled": False,
                "metadata": None,
                "created_at": now,
                "updated_at": now,
            }
            self._channels[channel["id"]] = channel
            return str(channel["id"])

    # --- HTTP ---------------------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Mapping[str, str]
    ) -> Reply:
        lowered = {k.lower(): v for k, v in headers.items()}
        path = path.rstrip("/")
        if path.startswith("/admin") and not self._authorized(lowered.get("authorization", "")):
            return 401, {"type": "unauthorized", "message": "Unauthorized"}, {}
        injected = self._failures.take(method, path)
        if injected is not None:
            return injected, {"type": "unexpected_state", "message": "Injected failure"}, {}
        try:
            with self._lock:
                if path.startswith("/store/"):
                    status, reply = self._store_route(method, path, query, lowered)
                else:
                    status, reply = self._route(method, path, query, body)
        except _NoRoute:
            html = HTML_404.format(method=method, path=path).encode()
            return 404, html, {"Content-Type": "text/html; charset=utf-8"}
        except _Error as exc:
            return exc.status, {"type": exc.kind, "message": exc.message}, {}
        except QueryError as exc:
            return 400, {"type": "invalid_data", "message": str(exc)}, {}
        return status, reply, {}

    def _authorized(self, auth: str) -> bool:
        scheme, _, credentials = auth.partition(" ")
        if scheme != "Basic":
            return False
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except ValueError:
            return False
        return decoded in (self.api_key, f"{self.api_key}:")

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = path.split("/")[1:]  # ["admin", resource, id?, sub?, sub_id?]
        if len(parts) < 2 or parts[0] != "admin":
            raise _NoRoute
        resource, rest = parts[1], parts[2:]
        if method == "POST" and not isinstance(body, dict):
            raise _Error(400, "invalid_data", "Invalid request: Expected an object")
        if resource == "products":
            return self._products_route(method, rest, query, body)
        if resource == "product-categories":
            return self._categories_route(method, rest, query, body)
        if resource == "brands" and self.brand_module is not None:
            return self._brands_route(method, rest, query, body)
        if resource == "stores" and not rest and method == "GET":
            check_query(query, ("id", "q"))
            return 200, paged("stores", [shape(self._store, "store", query.get("fields"))], query, 50)
        if resource == "sales-channels":
            return self._channels_route(method, rest, query, body)
        raise _NoRoute

    # --- products -----------------------------------------------------------------------------------

    def _products_route(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if not rest and method == "GET":  # undeclared filters are ignored here (categories refuse them)
            try:
                check_product_query(query)
                found = [p for p in self._products.values() if self._product_matches(p, query)]
            except OrderError:
                raise _Error(500, "unknown_error", "An unknown error occurred.") from None
            except ValueError as exc:
                raise _Error(400, "invalid_data", str(exc)) from None
            views = [self._http_view(p, query.get("fields")) for p in ordered(found, query.get("order"))]
            return 200, paged("products", views, query, 50)
        if not rest and method == "POST":
            created = self._create_product(body)
            self._forward("product.created", created)
            for _ in created["variants"]:  # Medusa's create workflow also emits product-variant.created
                self._forward("product-variant.created", created)
            return 200, {"product": self._http_view(created, query.get("fields"))}
        if not rest or len(rest) not in (1, 2, 3) or (len(rest) > 1 and rest[1] != "variants"):
            raise _NoRoute
        product = self._products.get(rest[0])
        if product is None:
            raise _Error(404, "not_found", f"Product with id: {rest[0]} was not found")
        if len(rest) == 1 and method == "GET":
            check_query(query, ())
            return 200, {"product": self._http_view(product, query.get("fields"))}
        if len(rest) == 1 and method == "POST":
            updated = self._update_product(product, body)
            self._forward("product.updated", updated)
            return 200, {"product": self._http_view(updated, query.get("fields"))}
        if len(rest) == 1 and method == "DELETE":
            now = self._now()
            product["deleted_at"] = product["updated_at"] = now
            del self._products[product["id"]]
            self._deleted[product["id"]] = product
            self._forward("product.deleted", product)
            return 200, {"id": product["id"], "object": "product", "deleted": True}
        if len(rest) == 2 and method == "POST":
            self._check_sku(body.get("sku"), None)
            self._add_variant(product, body)
            self._forward("product-variant.created", product)
            return 200, {"product": self._http_view(product, query.get("fields"))}
        if len(rest) == 3 and method == "POST":
            variant = next((v for v in product["variants"] if v["id"] == rest[2]), None)
            if variant is None:
                raise _Error(404, "not_found", f"Variant with id: {rest[2]} was not found")
            if "sku" in body:
                self._check_sku(body["sku"], variant["id"])
            for key in ("title", "sku", "manage_inventory", "allow_backorder", "metadata"):
                if key in body:
                    variant[key] = copy.deepcopy(body[key])
            if "prices" in body:
                variant["prices"] = self._prices(variant["id"], body["prices"])
            variant["updated_at"] = self._now()  # the product's own updated_at stays (observed on 2.21.2)
            self._forward("product-variant.updated", product)
            return 200, {"product": self._http_view(product, query.get("fields"))}
        raise _NoRoute

    def _product_matches(self, product: Mapping[str, Any], query: Mapping[str, str]) -> bool:
        if not time_filters_match(product, query):
            return False
        for key in ("id", "handle", "external_id", "title", "status"):
            if key in query and product.get(key) != query[key]:
                return False
        if "q" in query and query["q"].lower() not in str(product.get("title", "")).lower():
            return False
        if "sales_channel_id" in query and query["sales_channel_id"] not in self._channels_of[product["id"]]:
            return False
        return "category_id" not in query or query["category_id"] in product["categories"]

    def _create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("title"), str) or not body["title"]:
            raise _Error(400, "invalid_data", "Invalid request: Field 'title' is required")
        if not body.get("options"):
            raise _Error(400, "invalid_data", f"Product options are not provided for: [{body['title']}].")
        handle = body.get("handle") or re.sub(r"[^a-z0-9]+", "-", body["title"].lower()).strip("-")
        self._check_handle(handle, None)
        self._check_status(body.get("status", "draft"))
        self._check_additional_data(body.get("additional_data"), create=True)
        now, pid = self._now(), self._id("prod")
        options = []
        for option in body.get("options") or []:
            oid = self._id("opt")
            values = [
                {"id": self._id("optval"), "value": v, "option_id": oid} for v in option.get("values") or []
            ]
            options.append({"id": oid, "title": option["title"], "values": values})
        product = {
            "id": pid,
            "title": body["title"],
            "subtitle": body.get("subtitle"),
            "status": body.get("status", "draft"),
            "external_id": body.get("external_id"),
            "description": body.get("description"),
            "handle": handle,
            "is_giftcard": False,
            "discountable": True,
            "thumbnail": body.get("thumbnail"),
            "metadata": copy.deepcopy(body.get("metadata")),
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
            "options": options,
            "images": self._images(body.get("images") or []),
            "categories": self._category_ids(body.get("categories") or []),
            "variants": [],
        }
        for sku in [v.get("sku") for v in body.get("variants") or []]:
            self._check_sku(sku, None)
        for variant in body.get("variants") or []:
            self._add_variant(product, variant)
        self._channels_of[pid] = self._channel_ids(body.get("sales_channels") or [])
        self._products[pid] = product
        self._link_brand(pid, body.get("additional_data"), create=True)
        return product

    def _add_variant(self, product: dict[str, Any], variant: Mapping[str, Any]) -> dict[str, Any]:
        """A variant of `product` with the option values it names; two variants cannot share them."""
        chosen = variant.get("options") or {}
        values = [
            {**copy.deepcopy(value), "option": {"id": option["id"], "title": option["title"]}}
            for option in product["options"]
            for value in option["values"]
            if chosen.get(option["title"]) == value["value"]
        ]
        taken = {tuple(sorted(v["id"] for v in other["options"])) for other in product["variants"]}
        if tuple(sorted(v["id"] for v in values)) in taken:
            title = variant.get("title", "Default")
            raise _Error(400, "invalid_data", f"Variant ({title}) with provided options already exists.")
        vid, now = self._id("variant"), self._now()
        created = {
            "id": vid,
            "title": variant.get("title", "Default"),
            "sku": variant.get("sku"),
            "manage_inventory": variant.get("manage_inventory", True),
            "allow_backorder": variant.get("allow_backorder", False),
            "metadata": variant.get("metadata"),
            "product_id": product["id"],
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
            "options": values,
            "prices": self._prices(vid, variant.get("prices") or []),
        }
        product["variants"].append(created)
        return created

    def _check_sku(self, sku: Any, variant_id: str | None) -> None:
        """Variant SKUs are unique across the store (observed on 2.21.2)."""
        if sku is None:
            return
        for product in self._products.values():
            if any(v["sku"] == sku and v["id"] != variant_id for v in product["variants"]):
                raise _Error(400, "invalid_data", f"Product variant with sku: {sku}, already exists.")

    def _update_product(self, product: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "status" in body:
            self._check_status(body["status"])
        if "handle" in body:
            self._check_handle(body["handle"], product["id"])
        self._check_additional_data(body.get("additional_data"), create=False)
        for key in ("title", "subtitle", "handle", "description", "status", "external_id", "thumbnail"):
            if key in body:
                product[key] = copy.deepcopy(body[key])
        if isinstance(body.get("metadata"), dict):  # merged: "" deletes a key
            merged = dict(product.get("metadata") or {})
            for key, value in body["metadata"].items():
                if value == "":
                    merged.pop(key, None)
                else:
                    merged[key] = copy.deepcopy(value)
            product["metadata"] = merged
        if "images" in body:
            product["images"] = self._images(body["images"])
        if "categories" in body:
            product["categories"] = self._category_ids(body["categories"])
        if "sales_channels" in body:
            self._channels_of[product["id"]] = self._channel_ids(body["sales_channels"])
        self._link_brand(product["id"], body.get("additional_data"), create=False)
        product["updated_at"] = self._now()
        return product

    def _check_handle(self, handle: Any, product_id: str | None) -> None:
        if any(p["handle"] == handle and p["id"] != product_id for p in self._products.values()):
            raise _Error(400, "invalid_data", f"Product with handle: {handle}, already exists.")

    def _check_status(self, status: Any) -> None:
        if status not in STATUSES:
            raise _Error(400, "invalid_data", f"Invalid request: status must be one of {', '.join(STATUSES)}")

    def _check_additional_data(self, additional: Any, *, create: bool) -> None:
        if additional is not None and not isinstance(additional, dict):
            raise _Error(
                400, "invalid_data", "Invalid request: Expected an object for field 'additional_data'"
            )
        if not additional or "brand_id" not in additional:
            return
        brand_id = additional["brand_id"]
        validated = self.brand_module == "catalog-sync" or (self.brand_module == "tutorial" and create)
        allowed = (str, type(None)) if self.brand_module == "catalog-sync" else (str,)
        if validated and not isinstance(brand_id, allowed):
            got = "null" if brand_id is None else type(brand_id).__name__
            raise _Error(
                400,
                "invalid_data",
                "Invalid request: Expected type: 'string' for field 'additional_data, brand_id', "
                f"got: '{got}'",
            )
        if validated and brand_id is not None and brand_id not in self._brands:
            raise _Error(404, "not_found", f"Brand with id: {brand_id} was not found")

    def _link_brand(self, product_id: str, additional: Any, *, create: bool) -> None:
        if not isinstance(additional, dict) or "brand_id" not in additional:
            return
        if self.brand_module == "catalog-sync" or (self.brand_module == "tutorial" and create):
            if additional["brand_id"] is None:
                self._brand_of.pop(product_id, None)
            else:
                self._brand_of[product_id] = additional["brand_id"]

    def _images(self, images: list[Any]) -> list[dict[str, Any]]:
        return [{"id": self._id("img"), "url": i["url"], "rank": n} for n, i in enumerate(images)]

    def _prices(self, variant_id: str, prices: list[Any]) -> list[dict[str, Any]]:
        now = self._now()
        return [
            {
                "id": self._id("price"),
                "amount": p["amount"],
                "currency_code": p["currency_code"],
                "min_quantity": None,
                "max_quantity": None,
                "variant_id": variant_id,
                "created_at": now,
                "updated_at": now,
                "rules": {},
            }
            for p in prices
        ]

    def _category_ids(self, refs: list[Any]) -> list[str]:
        return _known_ids(refs, self._categories, "ProductCategory")

    def _channel_ids(self, refs: list[Any]) -> list[str]:
        return _known_ids(refs, self._channels, "Sales channel")

    def _product_view(self, product: Mapping[str, Any]) -> dict[str, Any]:
        """The full view (what `fields` selects from), brand included."""
        view = copy.deepcopy(dict(product))
        view["categories"] = [copy.deepcopy(self._categories[c]) for c in product["categories"]]
        view["sales_channels"] = [copy.deepcopy(self._channels[c]) for c in self._channels_of[product["id"]]]
        view["tags"] = []
        brand_id = self._brand_of.get(product["id"])
        view["brand"] = copy.deepcopy(self._brands.get(brand_id)) if brand_id else None
        return view

    def _http_view(self, product: Mapping[str, Any], fields: str | None) -> dict[str, Any]:
        view = self._product_view(product)
        default = everything({k: v for k, v in view.items() if k != "brand"}, "product")
        return shape(view, "product", fields, default)

    # --- categories, brands, sales channels ----------------------------------------------------------

    def _categories_route(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if not rest and method == "GET":
            check_query(query, CATEGORY_FILTERS)
            found = [c for c in self._categories.values() if _matches(c, query, ("id", "handle", "name"))]
            views = [shape(c, "category", query.get("fields")) for c in found]
            return 200, paged("product_categories", views, query, 50)
        if not rest and method == "POST":
            if not isinstance(body.get("name"), str) or not body["name"]:
                raise _Error(400, "invalid_data", "Invalid request: Field 'name' is required")
            handle = body.get("handle") or re.sub(r"[^a-z0-9]+", "-", body["name"].lower()).strip("-")
            if any(c["handle"] == handle for c in self._categories.values()):
                raise _Error(400, "invalid_data", f"Product category with handle: {handle}, already exists.")
            now = self._now()
            category = {
                "id": self._id("pcat"),
                "name": body["name"],
                "description": body.get("description", ""),
                "handle": handle,
                "is_active": body.get("is_active", False),
                "is_internal": False,
                "rank": len(self._categories),
                "parent_category_id": body.get("parent_category_id"),
                "metadata": body.get("metadata"),
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
            self._categories[category["id"]] = category
            return 200, {"product_category": copy.deepcopy(category)}
        if len(rest) != 1:
            raise _NoRoute
        record = self._categories.get(rest[0])
        if record is None:
            raise _Error(404, "not_found", f"Product category with id: {rest[0]} was not found")
        category = record
        if method == "POST":
            for key in ("name", "handle", "description", "is_active", "metadata"):
                if key in body:
                    category[key] = copy.deepcopy(body[key])
            category["updated_at"] = self._now()
        elif method != "GET":
            raise _NoRoute
        return 200, {"product_category": shape(category, "category", query.get("fields"))}

    def _brands_route(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        ours = self.brand_module == "catalog-sync"
        if not rest and method == "GET":
            filters = ("id", "name", "external_id") if ours else ()
            check_query(query, filters)
            found = [b for b in self._brands.values() if _matches(b, query, filters)]
            return 200, paged("brands", [shape(b, "brand", query.get("fields")) for b in found], query, 20)
        if not rest and method == "POST":
            check_query(body, ("name", "external_id") if ours else ("name",))
            if not isinstance(body.get("name"), str) or not body["name"]:
                raise _Error(400, "invalid_data", "Invalid request: Field 'name' is required")
            external = body.get("external_id")
            if external is not None and any(b.get("external_id") == external for b in self._brands.values()):
                raise _Error(400, "invalid_data", f"Brand with external_id: {external}, already exists.")
            now = self._now()
            brand = {"id": self._id("brand"), "name": body["name"], "created_at": now, "updated_at": now}
            if ours:
                brand["external_id"] = external
            self._brands[brand["id"]] = brand
            return 200, {"brand": copy.deepcopy(brand)}
        if not ours or len(rest) != 1 or method not in ("GET", "POST"):
            raise _NoRoute
        known = self._brands.get(rest[0])
        if known is None:
            raise _Error(404, "not_found", f"Brand with id: {rest[0]} was not found")
        brand = known
        if method == "POST":
            check_query(body, ("name", "external_id"))
            for key in ("name", "external_id"):
                if key in body:
                    brand[key] = body[key]
            brand["updated_at"] = self._now()
        return 200, {"brand": copy.deepcopy(brand)}

    def _channels_route(
        self, method: str, rest: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if not rest and method == "GET":
            check_query(query, ("id", "name", "q"))
            found = [c for c in self._channels.values() if _matches(c, query, ("id", "name"))]
            views = [shape(c, "sales_channel", query.get("fields")) for c in found]
            return 200, paged("sales_channels", views, query, 50)
        if len(rest) != 2 or rest[1] != "products" or method != "POST":
            raise _NoRoute
        channel = self._channels.get(rest[0])
        if channel is None:
            raise _Error(404, "not_found", f"Sales channel with id: {rest[0]} was not found")
        check_query(body, ("add", "remove"))
        for pid in [*body.get("add", []), *body.get("remove", [])]:
            if pid not in self._products:
                raise _Error(404, "not_found", f"Product with id: {pid} was not found")
        for pid in body.get("add", []):
            if channel["id"] not in self._channels_of[pid]:
                self._channels_of[pid].append(channel["id"])
        for pid in body.get("remove", []):
            self._channels_of[pid] = [c for c in self._channels_of[pid] if c != channel["id"]]
        return 200, {"sales_channel": copy.deepcopy(channel)}

    # --- the storefront -----------------------------------------------------------------------------

    def _store_route(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str]
    ) -> tuple[int, Any]:
        parts = path.split("/")[1:]
        if method != "GET" or len(parts) != 3 or parts[1] != "products":
            raise _NoRoute
        key = headers.get("x-publishable-api-key")
        if not key:
            raise _Error(
                400,
                "not_allowed",
                "Publishable API key required in the request header: "
                "x-publishable-api-key. You can manage your keys in settings in the dashboard.",
            )
        if key != self.publishable_key:
            raise _Error(
                400, "not_allowed", "A valid publishable key is required to proceed with the request"
            )
        product = self._products.get(parts[2])
        visible = (
            product is not None
            and product["status"] == "published"
            and self.default_sales_channel_id in self._channels_of[product["id"]]
        )
        if product is None or not visible:
            raise _Error(404, "not_found", f"Product with id: {parts[2]} was not found")
        view = self._http_view(product, query.get("fields"))
        return 200, {"product": view}

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


def _known_ids(refs: list[Any], known: Mapping[str, Any], what: str) -> list[str]:
    """The ids of `[{id}]` references, each of which must exist (404 naming the first that does not)."""
    out = []
    for ref in refs:
        ref_id = ref.get("id") if isinstance(ref, dict) else None
        if ref_id not in known:
            raise _Error(404, "not_found", f"{what} with id: {ref_id} was not found")
        out.append(str(ref_id))
    return out
