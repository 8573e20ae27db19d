"""BigCommerce v3 catalog connector: a thin client over JsonHttpClient plus the mapping to our models.

Shapes follow the official spec (catalog.v3.yml): list endpoints answer `{data, meta.pagination}`,
`include=variants,images` embeds children, `limit` ≤ 250, and `date_modified:min` needs a full ISO-8601
timestamp. A product's base variant (no option values) is the product itself, so it is not a Variant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog_sync.connections import BigCommerceEndpoint
from catalog_sync.connectors.http import HttpStatusError, JsonHttpClient
from catalog_sync.connectors.paging import Page
from catalog_sync.errors import DuplicateSku, PermanentError
from catalog_sync.models import Brand, Category, Image, OptionValue, Product, Variant

MAX_PAGE_SIZE = 250
MAX_PRODUCT_BATCH = 10
MAX_VARIANT_BATCH = 50
PRODUCT_INCLUDE = "variants,images"


# Whole-batch refusals worth isolating by halving: about the data of some item. Auth, rate-limit and
# server errors are about the request as a whole.
ISOLATABLE_STATUS = frozenset({400, 404, 409, 422})


class BigCommerceClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def for_endpoint(
        cls, endpoint: BigCommerceEndpoint, *, deadline: Callable[[], float] | None = None
    ) -> BigCommerceClient:
        headers = {
            "X-Auth-Token": endpoint.access_token.get_secret_value(),
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        rate = endpoint.max_requests_per_second
        return cls(
            JsonHttpClient(
                base_url=endpoint.v3_base,
                headers=headers,
                deadline=deadline,
                reserve=endpoint.quota_reserve,
                min_interval_s=1.0 / rate if rate > 0 else 0.0,
            )
        )

    # --- reads --------------------------------------------------------------------------------------

    def get_product(self, product_id: int) -> dict[str, Any] | None:
        return self._get_or_none(f"catalog/products/{product_id}", {"include": PRODUCT_INCLUDE})

    def find_product_by_sku(self, sku: str) -> dict[str, Any] | None:
        body = self.http.request("GET", "catalog/products", params={"sku": sku, "include": PRODUCT_INCLUDE})
        matches = [p for p in body["data"] if p.get("sku") == sku]
        if len(matches) > 1:
            raise DuplicateSku(f"SKU '{sku}' matches {len(matches)} products at the destination")
        return matches[0] if matches else None

    def list_products(
        self,
        *,
        page: int = 1,
        limit: int = MAX_PAGE_SIZE,
        modified_since: datetime | None = None,
        sort: str = "id",
        include: str | None = PRODUCT_INCLUDE,
        modified_until: datetime | None = None,
        id_greater: int | None = None,
    ) -> Page:
        params: dict[str, Any] = {"page": page, "limit": min(limit, MAX_PAGE_SIZE), "sort": sort}
        params["direction"] = "asc"
        if include:
            params["include"] = include
        # A bare date would get the current time appended by BigCommerce: always send a full timestamp.
        if modified_since is not None:
            params["date_modified:min"] = modified_since.isoformat(timespec="seconds")
        if modified_until is not None:
            params["date_modified:max"] = modified_until.isoformat(timespec="seconds")
        if id_greater is not None:
            params["id:greater"] = id_greater
        return _page(self.http.request("GET", "catalog/products", params=params))

    def iter_products(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            result = self.list_products(page=page, **kwargs)
            yield from result.items
            if result.is_last or not result.items:
                return
            page += 1

    def list_categories(self, *, page: int = 1, limit: int = MAX_PAGE_SIZE) -> Page:
        params = {"page": page, "limit": min(limit, MAX_PAGE_SIZE)}
        return _page(self.http.request("GET", "catalog/categories", params=params))

    def list_brands(self, *, page: int = 1, limit: int = MAX_PAGE_SIZE) -> Page:
        params = {"page": page, "limit": min(limit, MAX_PAGE_SIZE)}
        return _page(self.http.request("GET", "catalog/brands", params=params))

    def get_category(self, category_id: int) -> dict[str, Any] | None:
        return self._get_or_none(f"catalog/categories/{category_id}")

    def find_category(self, name: str, parent_id: int) -> dict[str, Any] | None:
        body = self.http.request("GET", "catalog/categories", params={"name": name, "parent_id": parent_id})
        matches = [c for c in body["data"] if c.get("name") == name and c.get("parent_id") == parent_id]
        return matches[0] if matches else None

    def get_brand(self, brand_id: int) -> dict[str, Any] | None:
        return self._get_or_none(f"catalog/brands/{brand_id}")

    def find_brand(self, name: str) -> dict[str, Any] | None:
        body = self.http.request("GET", "catalog/brands", params={"name": name})
        matches = [b for b in body["data"] if b.get("name") == name]
        return matches[0] if matches else None

    def channel_listing_state(self, channel_id: int, product_id: int) -> str | None:
        body = self.http.request(
            "GET", f"channels/{channel_id}/listings", params={"product_id:in": str(product_id)}
        )
        for listing in body.get("data") or []:
            if listing.get("product_id") == product_id:
                return str(listing.get("state"))
        return None

    # --- writes -------------------------------------------------------------------------------------

    def create_product(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.http.request("POST", "catalog/products", json=payload)["data"])
        except HttpStatusError as exc:
            if exc.status == 409:
                raise DuplicateSku(
                    f"destination refused product '{payload.get('sku')}': {exc.body[:200]}"
                ) from exc
            raise

    def update_product(self, product_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("PUT", f"catalog/products/{product_id}", json=payload)["data"])

    def list_variants(self, product_id: int) -> list[dict[str, Any]]:
        return list(self.http.request("GET", f"catalog/products/{product_id}/variants")["data"])

    def create_variant(self, product_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST a variant on an existing product; `option_values` are `{id, option_id}` of existing
        option values (see ensure_option_values). A 409 is a duplicate SKU."""
        try:
            path = f"catalog/products/{product_id}/variants"
            return dict(self.http.request("POST", path, json=payload)["data"])
        except HttpStatusError as exc:
            if exc.status == 409:
                raise DuplicateSku(f"variant '{payload.get('sku')}': {exc.body[:200]}") from exc
            raise

    def update_variants(self, payloads: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Batch `PUT /catalog/variants` (each payload carries its variant `id`), ≤ 50 per request."""
        updated: list[dict[str, Any]] = []
        for start in range(0, len(payloads), MAX_VARIANT_BATCH):
            chunk = list(payloads[start : start + MAX_VARIANT_BATCH])
            try:
                updated.extend(self.http.request("PUT", "catalog/variants", json=chunk)["data"])
            except HttpStatusError as exc:
                if exc.status == 422 and _all_not_found(exc.body):
                    # Every refused item is a 404: the variants (their product) are gone, which the
                    # single-variant write answers with a plain 404. Said the same way, so the engine
                    # resolves the product again instead of giving up on it.
                    url = f"{self.http.base_url.rstrip('/')}/catalog/variants"
                    raise HttpStatusError("PUT", url, 404, exc.body) from exc
                raise
        return updated

    def update_products(self, payloads: list[Mapping[str, Any]]) -> BatchResult:
        """Batch `PUT /catalog/products` (each payload carries its product `id`), ≤ 10 per request.

        A 207 answers the items that succeeded under `data` and the others under `batch_errors`, each
        naming its item by index (`"3.sku"`): the result reports them per product id, so the caller can
        retry or record exactly the ones that failed. A batch refused as a whole without naming an item
        (the spec's 400/404/409/422) is halved until the refused product stands alone: its neighbours
        land, at the cost of two requests per halving (≤ 8 more for 10 products)."""
        result = BatchResult()
        for start in range(0, len(payloads), MAX_PRODUCT_BATCH):
            self._update_batch(list(payloads[start : start + MAX_PRODUCT_BATCH]), result)
        return result

    def _update_batch(self, chunk: list[Mapping[str, Any]], result: BatchResult) -> None:
        """Send one batch; when the store refuses it whole without naming an item, send each half on its
        own (never assuming which half was at fault: the refusal may not come back), down to single
        products, whose refusal is then theirs alone."""
        try:
            body = self.http.request("PUT", "catalog/products", json=chunk)
        except HttpStatusError as exc:
            errors = _batch_errors(exc.body)
            if errors or len(chunk) == 1 or exc.status not in ISOLATABLE_STATUS:
                for index, item in enumerate(chunk):
                    status, message = errors.get(index, (exc.status, exc.body[:200]))
                    result.fail(int(item["id"]), status, message)
                return
            half = len(chunk) // 2
            self._update_batch(chunk[:half], result)
            self._update_batch(chunk[half:], result)
            return
        for product in body.get("data") or []:
            result.updated[int(product["id"])] = dict(product)
        for index, (status, message) in _batch_errors(body).items():
            if 0 <= index < len(chunk):
                result.fail(int(chunk[index]["id"]), status, message)

    # --- variant options ----------------------------------------------------------------------------

    def list_options(self, product_id: int) -> list[dict[str, Any]]:
        return list(self.http.request("GET", f"catalog/products/{product_id}/options")["data"])

    def create_option(self, product_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        path = f"catalog/products/{product_id}/options"
        return dict(self.http.request("POST", path, json=payload)["data"])

    def create_option_value(
        self, product_id: int, option_id: int, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        path = f"catalog/products/{product_id}/options/{option_id}/values"
        return dict(self.http.request("POST", path, json=payload)["data"])

    def ensure_option_values(self, product_id: int, wanted: list[tuple[str, str]]) -> list[dict[str, int]]:
        """`{id, option_id}` for each (display name, label), creating the option or value when missing
        (a variant on an existing product can only reference option values that exist)."""
        options = {o["display_name"]: o for o in self.list_options(product_id)}
        resolved: list[dict[str, int]] = []
        for name, label in wanted:
            option = options.get(name)
            if option is None:
                values = [{"label": label, "sort_order": 0}]
                option = self.create_option(
                    product_id, {"display_name": name, "type": "rectangles", "option_values": values}
                )
                options[name] = option
            value = next((v for v in option.get("option_values") or [] if v.get("label") == label), None)
            if value is None:
                order = len(option.get("option_values") or [])
                value = self.create_option_value(
                    product_id, int(option["id"]), {"label": label, "sort_order": order}
                )
                option["option_values"] = [*(option.get("option_values") or []), value]
            resolved.append({"id": int(value["id"]), "option_id": int(option["id"])})
        return resolved

    def update_variant(self, product_id: int, variant_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        path = f"catalog/products/{product_id}/variants/{variant_id}"
        return dict(self.http.request("PUT", path, json=payload)["data"])

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self._delete_tolerating_404(f"catalog/products/{product_id}/variants/{variant_id}")

    def list_images(self, product_id: int) -> list[dict[str, Any]]:
        return list(self.http.request("GET", f"catalog/products/{product_id}/images")["data"])

    def create_image(self, product_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", f"catalog/products/{product_id}/images", json=payload)["data"])

    def update_image(self, product_id: int, image_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        path = f"catalog/products/{product_id}/images/{image_id}"
        return dict(self.http.request("PUT", path, json=payload)["data"])

    def delete_image(self, product_id: int, image_id: int) -> None:
        self._delete_tolerating_404(f"catalog/products/{product_id}/images/{image_id}")

    def _delete_tolerating_404(self, path: str) -> None:
        try:
            self.http.request("DELETE", path)
        except HttpStatusError as exc:
            if exc.status != 404:
                raise

    def create_category(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", "catalog/categories", json=payload)["data"])

    def update_category(self, category_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("PUT", f"catalog/categories/{category_id}", json=payload)["data"])

    def create_brand(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("POST", "catalog/brands", json=payload)["data"])

    def update_brand(self, brand_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("PUT", f"catalog/brands/{brand_id}", json=payload)["data"])

    # --- webhooks (v3 /hooks) -----------------------------------------------------------------------

    def list_hooks(self) -> list[dict[str, Any]]:
        """Every hook of this app on the store, in one request: webhooks.v3.yml declares no paging (no
        query parameter at all) for `GET /hooks`."""
        return list(self.http.request("GET", "hooks").get("data") or [])

    def create_hook(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """`payload`: `scope`, `destination` (https, port 443), `is_active` and `headers` - all required."""
        return dict(self.http.request("POST", "hooks", json=payload)["data"])

    def update_hook(self, hook_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A PUT replaces the hook: `payload` carries all four fields, as for create_hook."""
        return dict(self.http.request("PUT", f"hooks/{hook_id}", json=payload)["data"])

    def delete_hook(self, hook_id: int) -> None:
        self._delete_tolerating_404(f"hooks/{hook_id}")

    def _get_or_none(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        try:
            return dict(self.http.request("GET", path, params=params)["data"])
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise


@dataclass
class BatchResult:
    """Per item outcome of a batch write: destination id -> updated product, or -> error message."""

    updated: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)  # of the failed items

    def fail(self, product_id: int, status: int, message: str) -> None:
        self.failed[product_id] = f"{status}: {message}"
        self.statuses[product_id] = status


_INDEXED_KEY = re.compile(r"^(\d+)\.")


def _batch_errors(body: Any) -> dict[int, tuple[int, str]]:
    """index -> (status, message) of the failed items: `batch_errors[].errors` keys name each by index
    ("3.sku") in a 207; a refusal of the whole batch (none landed) is one error whose `errors` may."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    if not isinstance(body, Mapping):
        return {}
    found: dict[int, tuple[int, str]] = {}
    for error in [*(body.get("batch_errors") or []), body]:
        if not isinstance(error, Mapping):
            continue
        for key, message in (error.get("errors") or {}).items():
            match = _INDEXED_KEY.match(str(key))
            if match:
                status = error.get("status")
                found.setdefault(
                    int(match.group(1)),
                    (status if isinstance(status, int) else 422, f"{error.get('title')}: {message}"),
                )
    return found


def _all_not_found(body: Any) -> bool:
    """A batch refusal (catalog.v3.yml's 422 `batch_errors`) whose every error is a 404."""
    try:
        errors = (json.loads(body) if isinstance(body, str) else body).get("batch_errors")
    except (ValueError, AttributeError):
        return False
    return bool(errors) and all(isinstance(e, Mapping) and e.get("status") == 404 for e in errors)


def _page(body: Mapping[str, Any]) -> Page:
    pagination = body.get("meta", {}).get("pagination", {})
    return Page(
        items=list(body.get("data") or []),
        current_page=int(pagination.get("current_page", 1)),
        total_pages=int(pagination.get("total_pages", 1)),
        total=int(pagination.get("total", 0)),
    )


# --- mapping: BigCommerce JSON -> our models -------------------------------------------------------


def product_from_bigcommerce(data: Mapping[str, Any]) -> Product:
    sku = str(data.get("sku") or "").strip()
    variants = tuple(
        Variant(
            source_id=v.get("id"),
            sku=str(v.get("sku") or ""),
            price=v.get("price"),
            sale_price=v.get("sale_price"),
            weight=v.get("weight"),
            inventory_level=v.get("inventory_level"),
            purchasing_disabled=bool(v.get("purchasing_disabled", False)),
            option_values=tuple(
                OptionValue(option_display_name=o["option_display_name"], label=o["label"])
                for o in v.get("option_values") or []
            ),
        )
        for v in data.get("variants") or []
        if v.get("option_values")  # the base variant is the product itself
    )
    images = tuple(
        Image(
            source_id=i.get("id"),
            image_url=str(i.get("image_url") or i.get("url_zoom") or i.get("url_standard") or ""),
            is_thumbnail=bool(i.get("is_thumbnail", False)),
            sort_order=int(i.get("sort_order") or 0),
            description=str(i.get("description") or ""),
        )
        for i in sorted(data.get("images") or [], key=lambda i: (i.get("sort_order") or 0, i.get("id") or 0))
    )
    try:
        return Product(
            source_id=int(data["id"]),
            date_modified=datetime.fromisoformat(str(data["date_modified"])),
            sku=sku,
            name=str(data["name"]),
            type=data.get("type") or "physical",
            description=str(data.get("description") or ""),
            price=float(data.get("price") or 0),
            sale_price=float(data.get("sale_price") or 0),
            retail_price=float(data.get("retail_price") or 0),
            cost_price=float(data.get("cost_price") or 0),
            weight=float(data.get("weight") or 0),
            is_visible=bool(data.get("is_visible", True)),
            availability=data.get("availability") or "available",
            inventory_level=int(data.get("inventory_level") or 0),
            inventory_tracking=data.get("inventory_tracking") or "none",
            categories=tuple(sorted(int(c) for c in data.get("categories") or [])),
            brand_id=int(data.get("brand_id") or 0),
            images=images,
            variants=variants,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise PermanentError(f"product {data.get('id')}: unexpected shape: {exc}") from exc


def category_from_bigcommerce(data: Mapping[str, Any]) -> Category:
    return Category(
        source_id=int(data["id"]),
        name=str(data["name"]),
        parent_id=int(data.get("parent_id") or 0),
        description=str(data.get("description") or ""),
        sort_order=int(data.get("sort_order") or 0),
        is_visible=bool(data.get("is_visible", True)),
        page_title=str(data.get("page_title") or ""),
    )


def brand_from_bigcommerce(data: Mapping[str, Any]) -> Brand:
    return Brand(
        source_id=int(data["id"]),
        name=str(data["name"]),
        page_title=str(data.get("page_title") or ""),
        meta_description=str(data.get("meta_description") or ""),
        image_url=str(data.get("image_url") or ""),
    )


# --- mapping: our models -> BigCommerce write payloads ---------------------------------------------


def product_create_payload(product: Product, categories: list[int], brand_id: int) -> dict[str, Any]:
    """POST /catalog/products body: fields plus inline variants and images (one request)."""
    payload = product_fields_payload(product, categories, brand_id)
    payload["variants"] = [v.model_dump(mode="json", exclude_none=True) for v in product.variants]
    payload["images"] = [i.model_dump(mode="json") for i in product.images]
    return payload


def product_fields_payload(product: Product, categories: list[int], brand_id: int) -> dict[str, Any]:
    payload = dict(product.fields_payload())
    payload["categories"] = categories
    payload["brand_id"] = brand_id
    return payload


SOFT_DELETE_PAYLOAD: dict[str, Any] = {"is_visible": False, "availability": "disabled"}
