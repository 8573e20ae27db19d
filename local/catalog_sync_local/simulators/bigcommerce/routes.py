"""URL routes of the simulated BigCommerce v3 API: from (method, path, query, JSON body) to a catalog call and
the spec's `{data, meta}` envelope, with `meta.pagination` on page-based lists.

Batch `PUT /catalog/products` (at most 10 items, else 413) applies each item on its own: all good is 200,
some failed is 207 `{data: [updated], meta, batch_errors: [...]}`, none succeeded is the first failure's
status with the spec's error body, whose `errors` name every failed item. Every batch error names its item
by index in its `errors` keys (`"1.sku"`), like the channels API. catalog.v3.yml defines no 207 response
(see the modelled one in simulators.bigcommerce.spec_derive.ERRATA); its error objects have
`errorResponse_409`'s shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from catalog_sync_local.simulators.bigcommerce.catalog import PRODUCT_SORTS, Catalog, ProductQuery
from catalog_sync_local.simulators.bigcommerce.fields import ApiError, invalid, parse_time_filter
from catalog_sync_local.simulators.bigcommerce.webhooks import Hooks

Reply = tuple[int, Any]  # status, JSON body (None: no body)
MAX_LIMIT = 250
MAX_PRODUCT_BATCH = 10
MAX_VARIANT_BATCH = 50
ID = r"(\d+)"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to /stores/{store_hash}/v3
    query: list[tuple[str, str]]
    body: Any = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = [v for k, v in self.query if k == name]
        return values[-1] if values else default

    def int_arg(self, name: str, default: int) -> int:
        value = self.arg(name)
        if value is None or value == "":
            return default
        if not re.fullmatch(r"-?\d+", value.strip()):
            raise invalid({name: "error.expected.jsnumber"})
        return int(value)

    def int_list(self, name: str) -> set[int] | None:
        value = self.arg(name)
        if value is None:
            return None
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(re.fullmatch(r"\d+", p) for p in parts):
            raise invalid({name: "error.expected.jsnumber"})
        return {int(p) for p in parts}

    def bool_arg(self, name: str) -> bool | None:
        value = self.arg(name)
        if value is None:
            return None
        return value.strip().lower() in ("1", "true", "yes")


Handler = Callable[..., Reply]


@dataclass
class BatchFaults:
    """Batch `PUT /catalog/products` answers a real store can give and the default simulator does not:
    a whole batch refused with no per-item errors (the spec's 409/422), or a 207 that names an applied
    item nowhere."""

    refuse: dict[int, int] = field(default_factory=dict)  # product id -> status of the whole batch
    unreported: set[int] = field(default_factory=set)

    def refuse_whole(self, body: Any) -> None:
        items = body if isinstance(body, list) else []
        for item in items:
            status = self.refuse.get(item["id"]) if isinstance(item, dict) and "id" in item else None
            if status is not None:
                raise ApiError(status, "The request could not be processed.")


class Routes:
    def __init__(self, catalog: Catalog, hooks: Hooks, *, clock: Callable[[], float]) -> None:
        self.catalog = catalog
        self.batch_faults = BatchFaults()
        self.taxonomy = catalog.taxonomy
        self.listings = catalog.listings
        self.hooks = hooks
        self.clock = clock
        product = f"/catalog/products/{ID}"
        variant, image = f"{product}/variants/{ID}", f"{product}/images/{ID}"
        option = f"{product}/options/{ID}"
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/catalog/products", self.list_products),
            ("POST", "/catalog/products", self.create_product),
            ("PUT", "/catalog/products", self.update_products),
            ("DELETE", "/catalog/products", self.delete_products),
            ("GET", product, self.get_product),
            ("PUT", product, self.update_product),
            ("DELETE", product, self.delete_product),
            ("GET", f"{product}/variants", self.list_product_variants),
            ("POST", f"{product}/variants", self.create_variant),
            ("GET", variant, lambda r, p, v: _one(self.catalog.get_variant(int(p), int(v)))),
            ("PUT", variant, lambda r, p, v: _one(self.catalog.update_variant(int(p), int(v), r.body))),
            ("DELETE", variant, lambda r, p, v: _gone(self.catalog.delete_variant, int(p), int(v))),
            ("GET", f"{product}/options", lambda r, p: _paged(r, self.catalog.list_options(int(p)))),
            ("POST", f"{product}/options", lambda r, p: _one(self.catalog.create_option(int(p), r.body))),
            ("GET", option, lambda r, p, o: _one(self.catalog.get_option(int(p), int(o)))),
            (
                "GET",
                f"{option}/values",
                lambda r, p, o: _paged(r, self.catalog.list_option_values(int(p), int(o))),
            ),
            (
                "POST",
                f"{option}/values",
                lambda r, p, o: _one(self.catalog.create_option_value(int(p), int(o), r.body)),
            ),
            ("GET", "/catalog/variants", self.list_variants),
            ("PUT", "/catalog/variants", self.update_variants),
            ("GET", f"{product}/images", lambda r, p: _paged(r, self.catalog.list_images(int(p)))),
            ("POST", f"{product}/images", lambda r, p: _one(self.catalog.create_image(int(p), r.body))),
            ("GET", image, lambda r, p, i: _one(self.catalog.get_image(int(p), int(i)))),
            ("PUT", image, lambda r, p, i: _one(self.catalog.update_image(int(p), int(i), r.body))),
            ("DELETE", image, lambda r, p, i: _gone(self.catalog.delete_image, int(p), int(i))),
            ("GET", "/catalog/categories", self.list_categories),
            ("POST", "/catalog/categories", lambda r: _one(self.taxonomy.create_category(r.body))),
            ("GET", f"/catalog/categories/{ID}", lambda r, c: _one(self.taxonomy.get_category(int(c)))),
            (
                "PUT",
                f"/catalog/categories/{ID}",
                lambda r, c: _one(self.taxonomy.update_category(int(c), r.body)),
            ),
            (
                "DELETE",
                f"/catalog/categories/{ID}",
                lambda r, c: _gone(self.taxonomy.delete_category, int(c)),
            ),
            ("GET", "/catalog/brands", self.list_brands),
            ("POST", "/catalog/brands", lambda r: _one(self.taxonomy.create_brand(r.body))),
            ("GET", f"/catalog/brands/{ID}", lambda r, b: _one(self.taxonomy.get_brand(int(b)))),
            ("PUT", f"/catalog/brands/{ID}", lambda r, b: _one(self.taxonomy.update_brand(int(b), r.body))),
            ("DELETE", f"/catalog/brands/{ID}", lambda r, b: _gone(self.taxonomy.delete_brand, int(b))),
            ("GET", f"/channels/{ID}/listings", self.list_listings),
            ("POST", f"/channels/{ID}/listings", lambda r, c: _many(self.listings.create(int(c), r.body))),
            ("PUT", f"/channels/{ID}/listings", lambda r, c: _many(self.listings.update(int(c), r.body))),
            (
                "GET",
                f"/channels/{ID}/listings/{ID}",
                lambda r, c, li: _one(self.listings.get(int(c), int(li))),
            ),
            ("GET", "/hooks", self.list_hooks),
            ("POST", "/hooks", lambda r: _one(self.hooks.create(r.body))),
            ("GET", f"/hooks/{ID}", lambda r, h: _one(self.hooks.get(int(h)))),
            ("PUT", f"/hooks/{ID}", lambda r, h: _one(self.hooks.update(int(h), r.body))),
            ("DELETE", f"/hooks/{ID}", lambda r, h: _one(self.hooks.delete(int(h)))),
        ]
        self._table = [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    def dispatch(self, req: Request) -> Reply:
        path = req.path.rstrip("/") or "/"
        allowed = []
        for method, pattern, handler in self._table:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method == req.method:
                return handler(req, *match.groups())
            allowed.append(method)
        if allowed:
            raise ApiError(405, f"Method {req.method} is not allowed here (allowed: {', '.join(allowed)})")
        raise ApiError(404, "The requested resource was not found.")

    # --- products ---------------------------------------------------------------------------------------

    def list_products(self, req: Request) -> Reply:
        page, limit = _page_args(req)
        query = self._product_query(req)
        query.offset, query.limit = (page - 1) * limit, limit
        total, items = self.catalog.query_products(query)
        items = [_fields(req, p) for p in items]
        return 200, {"data": items, "meta": _page_meta(req, total, len(items), page, limit)}

    def create_product(self, req: Request) -> Reply:
        return _one(_fields(req, self.catalog.create_product(req.body, _include(req))))

    def get_product(self, req: Request, product_id: str) -> Reply:
        return _one(_fields(req, self.catalog.product_view(int(product_id), _include(req))))

    def update_product(self, req: Request, product_id: str) -> Reply:
        return _one(_fields(req, self.catalog.update_product(int(product_id), req.body, _include(req))))

    def delete_product(self, req: Request, product_id: str) -> Reply:
        return _gone(self.catalog.delete_product, int(product_id))

    def update_products(self, req: Request) -> Reply:
        if isinstance(req.body, list) and len(req.body) > MAX_PRODUCT_BATCH:
            raise _too_large(MAX_PRODUCT_BATCH)
        self.batch_faults.refuse_whole(req.body)
        updated, failures = self.catalog.update_products(req.body, _include(req))
        updated = [p for p in updated if p.get("id") not in self.batch_faults.unreported]
        if not failures:
            return _many(updated)
        batch_errors = [_indexed(index, error) for index, error in sorted(failures.items())]
        if updated:
            return 207, {"data": updated, "meta": {}, "batch_errors": batch_errors}
        # none landed: the spec's plain error of the first failure's status, naming every item by index
        first = failures[min(failures)]
        indexed = {key: message for error in batch_errors for key, message in error["errors"].items()}
        return first.status, {**first.body(), "errors": indexed}

    def delete_products(self, req: Request) -> Reply:
        if not any(k not in ("page", "limit", "include") for k, _ in req.query):
            raise invalid({"filter": "Deleting products needs at least one filter, such as id:in"})
        self.catalog.delete_products(self._product_query(req))
        return 204, None

    def _product_query(self, req: Request) -> ProductQuery:
        sort = req.arg("sort", "id") or "id"
        direction = (req.arg("direction", "asc") or "asc").lower()
        if sort not in PRODUCT_SORTS:
            raise invalid({"sort": "error.expected.validenumvalue"})
        if direction not in ("asc", "desc"):
            raise invalid({"direction": "error.expected.validenumvalue"})
        ids = req.int_list("id:in")
        if req.arg("id") is not None:
            ids = (ids or {req.int_arg("id", 0)}) & {req.int_arg("id", 0)}
        query = ProductQuery(ids=ids, sort=sort, descending=direction == "desc", include=_include(req))
        query.not_ids = req.int_list("id:not_in") or set()
        query.id_min = _bound(req, "id:min", "id:greater", +1)
        query.id_max = _bound(req, "id:max", "id:less", -1)
        skus = [s for s in (req.arg("sku"), *(req.arg("sku:in") or "").split(",")) if s]
        query.skus = set(skus) if skus else None
        for name in ("name", "type", "availability"):
            if req.arg(name) is not None:
                query.equals[name] = req.arg(name)
        if req.arg("brand_id") is not None:
            query.equals["brand_id"] = req.int_arg("brand_id", 0)
        if req.bool_arg("is_visible") is not None:
            query.equals["is_visible"] = req.bool_arg("is_visible")
        categories = req.int_list("categories:in") or req.int_list("categories")
        query.categories = categories
        query.keyword = req.arg("keyword")
        now = self.clock()
        for key, attr in (("date_modified:min", "modified_min"), ("date_modified:max", "modified_max")):
            value = req.arg(key)
            if value:
                setattr(query, attr, parse_time_filter(value, now))
        return query

    # --- variants ---------------------------------------------------------------------------------------

    def list_product_variants(self, req: Request, product_id: str) -> Reply:
        return _paged(req, self.catalog.list_variants(int(product_id)))

    def create_variant(self, req: Request, product_id: str) -> Reply:
        return _one(self.catalog.create_variant(int(product_id), req.body))

    def list_variants(self, req: Request) -> Reply:
        variants = self.catalog.list_variants()
        filters = {"id": "int", "id:in": "ints", "sku": "str", "product_id": "ints"}
        return _paged(req, _filtered(req, variants, filters))

    def update_variants(self, req: Request) -> Reply:
        if isinstance(req.body, list) and len(req.body) > MAX_VARIANT_BATCH:
            raise _too_large(MAX_VARIANT_BATCH)
        return _many(self.catalog.update_variants(req.body))

    # --- categories, brands, listings, hooks ------------------------------------------------------------

    def list_categories(self, req: Request) -> Reply:
        filters = {
            "id": "int",
            "id:in": "ints",
            "name": "str",
            "name:like": "like",
            "parent_id": "int",
            "parent_id:in": "ints",
            "page_title": "str",
            "is_visible": "bool",
            "keyword": "like",
        }
        return _paged(req, _filtered(req, self.taxonomy.list_categories(), filters))

    def list_brands(self, req: Request) -> Reply:
        filters = {"id": "int", "id:in": "ints", "name": "str", "page_title": "str"}
        return _paged(req, _filtered(req, self.taxonomy.list_brands(), filters))

    def list_listings(self, req: Request, channel_id: str) -> Reply:
        limit = max(1, min(req.int_arg("limit", 50), 1000))
        after = req.int_arg("after", 0)
        product_ids = req.int_list("product_id:in")
        total, items = self.listings.query(int(channel_id), product_ids=product_ids, after=after, limit=limit)
        others = [(k, v) for k, v in req.query if k not in ("after", "limit")]
        links = {
            "current": "?" + urlencode([*others, *([("after", after)] if after else []), ("limit", limit)])
        }
        _, rest = self.listings.query(
            int(channel_id), product_ids=product_ids, after=_last_id(items), limit=1
        )
        if items and rest:
            links["next"] = "?" + urlencode([*others, ("after", _last_id(items)), ("limit", limit)])
        pagination = {"total": total, "count": len(items), "total_pages": math.ceil(total / limit)}
        return 200, {"data": items, "meta": {"pagination": {**pagination, "links": links}}}

    def list_hooks(self, req: Request) -> Reply:
        hooks = _filtered(
            req, self.hooks.list_hooks(), {"scope": "str", "destination": "str", "is_active": "bool"}
        )
        pagination = {"offset": 0, "limit": len(hooks), "total_items": len(hooks)}
        return 200, {"data": hooks, "meta": {"pagination": pagination}}


# --- helpers -------------------------------------------------------------------------------------------


def _one(data: Mapping[str, Any]) -> Reply:
    return 200, {"data": data, "meta": {}}


def _many(data: list[dict[str, Any]]) -> Reply:
    return 200, {"data": data, "meta": {}}


def _gone(delete: Callable[..., None], *args: Any) -> Reply:
    delete(*args)
    return 204, None


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, f"The request payload is too large. The maximum items allowed in the array is {limit}"
    )


def _indexed(index: int, error: ApiError) -> dict[str, Any]:
    body = error.body()
    body["errors"] = {
        f"{index}.{key}": message for key, message in (error.errors or {"id": error.title}).items()
    }
    return body


def _include(req: Request) -> frozenset[str]:
    return frozenset(p.strip() for p in (req.arg("include") or "").split(",") if p.strip())


def _fields(req: Request, product: dict[str, Any]) -> dict[str, Any]:
    """Honour `include_fields` / `exclude_fields` (the id and included sub-resources always stay)."""
    wanted = {f.strip() for f in (req.arg("include_fields") or "").split(",") if f.strip()}
    unwanted = {f.strip() for f in (req.arg("exclude_fields") or "").split(",") if f.strip()} - {"id"}
    if wanted:
        keep = wanted | {"id"} | _include(req)
        product = {k: v for k, v in product.items() if k in keep}
    return {k: v for k, v in product.items() if k not in unwanted}


def _page_args(req: Request) -> tuple[int, int]:
    return max(1, req.int_arg("page", 1)), max(1, min(req.int_arg("limit", 50), MAX_LIMIT))


def _paged(req: Request, items: list[dict[str, Any]]) -> Reply:
    page, limit = _page_args(req)
    chunk = items[(page - 1) * limit : page * limit]
    return 200, {"data": chunk, "meta": _page_meta(req, len(items), len(chunk), page, limit)}


def _page_meta(req: Request, total: int, count: int, page: int, limit: int) -> dict[str, Any]:
    total_pages = math.ceil(total / limit)
    others = [(k, v) for k, v in req.query if k not in ("page", "limit")]

    def link(number: int) -> str:
        return "?" + urlencode([*others, ("page", number), ("limit", limit)])

    links = {"current": link(page)}
    if page > 1:
        links["previous"] = link(min(page - 1, max(total_pages, 1)))
    if page < total_pages:
        links["next"] = link(page + 1)
    pagination = {
        "total": total,
        "count": count,
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }
    return {"pagination": pagination}


def _bound(req: Request, inclusive: str, exclusive: str, step: int) -> int | None:
    values = []
    if req.arg(inclusive) is not None:
        values.append(req.int_arg(inclusive, 0))
    if req.arg(exclusive) is not None:
        values.append(req.int_arg(exclusive, 0) + step)
    if not values:
        return None
    return max(values) if step > 0 else min(values)


def _filtered(
    req: Request, items: Iterable[dict[str, Any]], filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    kept = list(items)
    for param, kind in filters.items():
        value = req.arg(param)
        if value is None:
            continue
        name = param.split(":", 1)[0]
        if name == "keyword":
            name = "name"
        if kind == "int":
            wanted_int = req.int_arg(param, 0)
            kept = [i for i in kept if i.get(name) == wanted_int]
        elif kind == "ints":
            wanted_ids = req.int_list(param) or set()
            kept = [i for i in kept if i.get(name) in wanted_ids]
        elif kind == "bool":
            wanted_bool = req.bool_arg(param)
            kept = [i for i in kept if i.get(name) == wanted_bool]
        elif kind == "like":
            kept = [i for i in kept if value.lower() in str(i.get(name, "")).lower()]
        else:
            kept = [i for i in kept if i.get(name) == value]
    return kept


def _last_id(items: list[dict[str, Any]]) -> int:
    return int(items[-1]["listing_id"]) if items else 0
