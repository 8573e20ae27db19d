"""Pixlpay store API connector (source; seed 000), over the shared JsonHttpClient.

Facts (docs.pixlpay.net/developers/api): base `https://<store>.pixlpay.net/api/external/v1`, Bearer token,
answers `{success, data, meta}`; `GET /products?page=&per_page=` (default 15, at most 100) pages with
`meta{current_page, last_page, per_page, total}`; `GET /products/{id}`; no filter or sort by modification
time (pull sync runs in audit mode); 60 requests a minute per token, 429 beyond. Product fields used:
`id, name, description, price` (a decimal string), `compare_price`, `is_active, type, sku, stock`,
`category{id, name, slug}`, `images[]{url, is_primary}`, `updated_at`.

`update_product` is the write-back of a later issue: the public docs list no product write endpoint yet
(seed 000: "when write endpoints available"), so it sends `PUT /products/{id}` with the changed fields,
the REST shape the API's other resources use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from catalog_sync.connections import PixlpayEndpoint
from catalog_sync.connectors.http import HttpStatusError, JsonHttpClient
from catalog_sync.connectors.paging import Page
from catalog_sync.errors import PermanentError
from catalog_sync.models import FlatProduct, Grouping

API_PREFIX = "/api/external/v1"
MAX_PER_PAGE = 100


def external_id(product_id: int) -> str:
    """Seed 000's convention for a Pixlpay product at the destination."""
    return f"pixlpay_{product_id}"


class PixlpayClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

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

    def update_product(self, product_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Write back `name`, `description`, `price` (sent as Pixlpay's decimal string) or `is_active`."""
        body = dict(changes)
        if "price" in body and body["price"] is not None:
            body["price"] = f"{float(body['price']):.2f}"
        return dict(self.http.request("PUT", f"products/{product_id}", json=body)["data"])

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
