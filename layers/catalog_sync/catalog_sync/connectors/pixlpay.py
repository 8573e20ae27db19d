"""Pixlpay store API connector (source; seed 000), over the shared JsonHttpClient.

Facts (docs.pixlpay.net/developers/api): base `https://<store>.pixlpay.net/api/external/v1`, Bearer token,
answers `{success, data, meta}`; `GET /products?page=&per_page=` (default 15, at most 100) pages with
`meta{current_page, last_page, per_page, total}`; `GET /products/{id}`; no filter or sort by modification
time (pull sync runs in audit mode); 60 requests a minute per token, 429 beyond. Product fields used:
`id, name, description, price` (a decimal string), `compare_price`, `is_active, type, sku, stock`,
`category{id, name, slug}`, `images[]{url, is_primary}`, `updated_at`.

Write-back (seed 000's "Bidirectional Sync": name, description, price, is_active) - an ASSUMED endpoint.
Pixlpay's public API documents no product write: its API overview (docs.pixlpay.net/developers/api) lists
only `GET /products` and `GET /products/{id}`, and the Products API page says "Fetch product information".
Yet its token scopes include `products:write` ("Create, update, and delete products";
docs.pixlpay.net/guide/integrations/api-tokens), so one exists or is planned. `update_product` models the
closest real shape, the one the API's webhooks resource uses for its update: `PUT /products/{id}` with a
JSON body of only the fields to change (`price` as the decimal string the API answers with), answered
`{success: true, data: <the product>}`. Errors follow the documented error handling
(docs.pixlpay.net/guides/error-handling): 404 not found, 403 a token without the scope, 422
`{success: false, error: "VALIDATION_ERROR", message, errors: {field: [...]}}`. Confirm with Pixlpay before
relying on it live; the simulator (catalog_sync_local.simulators.pixlpay.store) serves exactly this shape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from catalog_sync.connections import PixlpayEndpoint
from catalog_sync.connectors.http import HttpStatusError, JsonHttpClient
from catalog_sync.connectors.paging import Page
from catalog_sync.errors import PermanentError
from catalog_sync.models import FlatProduct, Grouping

API_PREFIX = "/api/external/v1"
MAX_PER_PAGE = 100
# What the write-back may change (seed 000): nothing else is ever sent.
WRITABLE_FIELDS = ("name", "description", "price", "is_active")
MAX_NAME_CHARS = 255
MAX_DESCRIPTION_CHARS = 65_535


class PixlpayWriteInvalid(PermanentError):
    """A write-back refused before it was sent: an unknown field or a value Pixlpay cannot take."""

    code = "pixlpay_write_invalid"


class PixlpayProductNotFound(PermanentError):
    code = "pixlpay_product_not_found"


class PixlpayWriteRefused(PermanentError):
    """Pixlpay refused the write: 422 (its per-field `errors` are kept) or 403 (no products:write scope)."""

    code = "pixlpay_write_refused"

    def __init__(self, message: str, *, status: int, errors: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = dict(errors or {})


def external_id(product_id: int) -> str:
    """Seed 000's convention for a Pixlpay product at the destination."""
    return f"pixlpay_{product_id}"


class PixlpayClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    def external_id(self, product_id: int) -> str:
        """How a product of this source is named at the destination, even once it is gone here."""
        return external_id(product_id)

    @classmethod
    def for_endpoint(
        cls, endpoint: PixlpayEndpoint, *, deadline: Callable[[], float] | None = None
    ) -> PixlpayClient:
        base = endpoint.api_url.rstrip("/")
        if not base.endswith(API_PREFIX):
            base += API_PREFIX
        headers = {
            "Authorization": f"Bearer {endpoint.api_token.get_secret_value()}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        interval = 60.0 / endpoint.max_requests_per_minute if endpoint.max_requests_per_minute > 0 else 0.0
        return cls(JsonHttpClient(base_url=base, headers=headers, deadline=deadline, min_interval_s=interval))

    def list_products(self, page: int, per_page: int = MAX_PER_PAGE) -> Page:
        params = {"page": max(1, page), "per_page": max(1, min(per_page, MAX_PER_PAGE))}
        body = self.http.request("GET", "products", params=params)
        meta = body.get("meta") or {}
        return Page(
            items=list(body.get("data") or []),
            current_page=int(meta.get("current_page", page)),
            total_pages=int(meta.get("last_page", 1)),
            total=int(meta.get("total", 0)),
        )

    def iter_products(
        self, per_page: int = MAX_PER_PAGE, max_pages: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        for page in range(1, max_pages + 1):
            result = self.list_products(page, per_page)
            yield from result.items
            if result.is_last or not result.items:
                return

    def get_product(self, product_id: int) -> dict[str, Any] | None:
        try:
            return dict(self.http.request("GET", f"products/{product_id}")["data"])
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise

    def update_product(self, product_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Write back some of `name`, `description`, `price`, `is_active` (see the module docstring for the
        endpoint); answers the product as Pixlpay holds it after the write (its new `updated_at` included).

        Raises PixlpayWriteInvalid before sending anything for another field or a bad value (`price` takes
        a number or decimal string >= 0 and is sent as Pixlpay's 2-decimal string), PixlpayProductNotFound
        (404) and PixlpayWriteRefused (422 with Pixlpay's per-field `errors`, 403); 429/5xx are retried by
        the HTTP client and end as RetriableError.
        """
        if isinstance(product_id, bool) or not isinstance(product_id, int) or product_id < 1:
            raise PixlpayWriteInvalid(f"pixlpay product id must be a positive integer, got {product_id!r}")
        body = write_body(fields)
        try:
            answer = self.http.request("PUT", f"products/{product_id}", json=body)
        except HttpStatusError as exc:
            if exc.status == 404:
                raise PixlpayProductNotFound(f"pixlpay product {product_id} not found") from exc
            if exc.status in (403, 422):
                errors = _error_fields(exc.body)
                raise PixlpayWriteRefused(
                    f"pixlpay refused the write to product {product_id} ({exc.status}): "
                    f"{', '.join(sorted(errors)) or exc.body[:200]}",
                    status=exc.status,
                    errors=errors,
                ) from exc
            raise
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or data.get("id") != product_id:
            raise PermanentError(f"pixlpay answered the write to product {product_id} without that product")
        return data

    # --- webhooks (docs.pixlpay.net/developers/api/webhooks): one endpoint, a list of events ------------

    def list_webhooks(self) -> list[dict[str, Any]]:
        return [dict(h) for h in self.http.request("GET", "webhooks").get("data") or []]

    def create_webhook(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Register one; the answer is the only one that carries its signing `secret`."""
        return dict(self.http.request("POST", "webhooks", json=dict(payload))["data"])

    def update_webhook(self, webhook_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.request("PUT", f"webhooks/{webhook_id}", json=dict(payload))["data"])

    def delete_webhook(self, webhook_id: int) -> None:
        try:
            self.http.request("DELETE", f"webhooks/{webhook_id}")
        except HttpStatusError as exc:
            if exc.status != 404:
                raise

    # The engine's ProductSource protocol: the current state of one product, mapped, or None if gone.
    def fetch_product(self, product_id: int) -> FlatProduct | None:
        data = self.get_product(product_id)
        return None if data is None else product_from_pixlpay(data)


def write_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The write-back's JSON body: only the writable fields, validated, `price` as a 2-decimal string."""
    if not isinstance(fields, Mapping) or not fields:
        raise PixlpayWriteInvalid(f"a pixlpay write needs at least one of {', '.join(WRITABLE_FIELDS)}")
    unknown = sorted(set(fields) - set(WRITABLE_FIELDS))
    if unknown:
        raise PixlpayWriteInvalid(f"pixlpay write-back cannot change {', '.join(map(str, unknown))}")
    body: dict[str, Any] = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
            raise PixlpayWriteInvalid(f"name must be a non-blank string of at most {MAX_NAME_CHARS} chars")
        body["name"] = name
    if "description" in fields:
        description = fields["description"]
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
            raise PixlpayWriteInvalid(f"description: a string of at most {MAX_DESCRIPTION_CHARS} chars")
        body["description"] = description
    if "price" in fields:
        body["price"] = money(fields["price"])
    if "is_active" in fields:
        if not isinstance(fields["is_active"], bool):
            raise PixlpayWriteInvalid("is_active must be true or false")
        body["is_active"] = fields["is_active"]
    return body


def money(value: Any) -> str:
    """A price as Pixlpay writes it: a decimal string with 2 places (half up); >= 0 and finite."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PixlpayWriteInvalid("price must be a number or a decimal string")
    if isinstance(value, float) and not math.isfinite(value):
        raise PixlpayWriteInvalid("price must be finite")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PixlpayWriteInvalid("price must be a number or a decimal string") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("99999999.99"):
        raise PixlpayWriteInvalid("price must be between 0 and 99999999.99")
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _error_fields(body: str) -> dict[str, Any]:
    try:
        errors = json.loads(body).get("errors")
    except (ValueError, AttributeError):
        return {}
    return dict(errors) if isinstance(errors, dict) else {}


def product_from_pixlpay(data: Mapping[str, Any]) -> FlatProduct:
    try:
        images = sorted(
            (i for i in data.get("images") or [] if isinstance(i, Mapping) and i.get("url")),
            key=lambda i: not i.get("is_primary", False),  # the primary image first
        )
        category = data.get("category")
        stock = data.get("stock", data.get("stock_quantity"))
        compare = data.get("compare_price", data.get("compare_at_price"))
        return FlatProduct(
            source_id=int(data["id"]),
            version=datetime.fromisoformat(str(data["updated_at"]).replace("Z", "+00:00")),
            external_id=external_id(int(data["id"])),
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            price=float(data.get("price") or 0),
            compare_at_price=float(compare) if compare not in (None, "") else None,
            active=bool(data.get("is_active", True)),
            type=str(data.get("type") or "digital"),
            sku=str(data["sku"]) if data.get("sku") else None,
            stock=int(stock) if stock is not None else None,
            image_urls=tuple(str(i["url"]) for i in images),
            category=(
                Grouping(
                    source_id=int(category["id"]),
                    name=str(category["name"]),
                    slug=str(category.get("slug") or ""),
                )
                if isinstance(category, Mapping) and category.get("id") is not None
                else None
            ),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise PermanentError(f"pixlpay product {data.get('id')}: unexpected shape: {exc}") from exc
