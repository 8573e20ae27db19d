"""Which pull strategy a connection uses, and how the jobs page its source.

cursor: the source sorts, pages and filters by modification time (BigCommerce).
audit:  it cannot (Pixlpay), so every pull sweeps the whole listing against a hash snapshot.
`schedule.pull_mode` "auto" picks by the source's kind; "cursor" or "audit" force one (audit works for
any source; cursor only where the source can filter).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Literal

from catalog_sync.connections import BigCommerceEndpoint, Connection
from catalog_sync.connectors.bigcommerce import PRODUCT_INCLUDE, BigCommerceClient
from catalog_sync.connectors.paging import Page
from catalog_sync.errors import ConfigurationError
from catalog_sync.jobs.audit import FetchPage
from catalog_sync.jobs.full_sync import Sweep
from catalog_sync.jobs.pull import CursorSource
from catalog_sync.sync_request import EntityType

PullMode = Literal["cursor", "audit"]


def pull_mode(connection: Connection) -> PullMode:
    mode = connection.schedule.pull_mode
    if mode == "auto":
        return "cursor" if isinstance(connection.source, BigCommerceEndpoint) else "audit"
    if mode == "cursor" and not isinstance(connection.source, BigCommerceEndpoint):
        raise ConfigurationError(
            f"{connection.name}: a {connection.source.kind} source cannot pull in cursor mode"
        )
    return mode


def cursor_source(connection: Connection) -> CursorSource:
    if not isinstance(connection.source, BigCommerceEndpoint):
        raise ConfigurationError(f"{connection.name}: cursor mode needs a BigCommerce source")
    return BigCommerceClient.for_endpoint(connection.source)


def destination_cursor_source(connection: Connection) -> CursorSource | None:
    """A two-way connection's destination, pulled like a source when it is a BigCommerce store (None:
    not two-way, or a destination pulled otherwise)."""
    if not connection.two_way or not isinstance(connection.destination, BigCommerceEndpoint):
        return None
    return BigCommerceClient.for_endpoint(connection.destination)


def listing_pages(connection: Connection, page_size: int) -> FetchPage:
    """Page n of the source's full product listing, in id order, with what the listing hash covers
    (BigCommerce: variants and images inline)."""
    source = connection.source
    if isinstance(source, BigCommerceEndpoint):
        client = BigCommerceClient.for_endpoint(source)

        def bigcommerce_page(number: int) -> Page:
            return client.list_products(page=number, limit=page_size, sort="id", include=PRODUCT_INCLUDE)

        return bigcommerce_page
    pixlpay = _pixlpay_client(source)
    per_page = min(page_size, int(getattr(source, "per_page", 100)))

    def pixlpay_page(number: int) -> Page:
        page: Page = pixlpay.list_products(page=number, per_page=per_page)
        return page

    return pixlpay_page


def full_sync_sweeps(
    connection: Connection,
    page_size: int,
    known_ids: Callable[[EntityType], Iterable[int]],
    tombstoned_ids: Callable[[EntityType], Iterable[int]] | None = None,
) -> list[Sweep]:
    """What a full sync sweeps, dependencies first: a BigCommerce source lists categories and brands
    besides products; a Pixlpay source lists products only (its categories travel with them)."""

    def tombstones(kind: EntityType) -> Callable[[], Iterable[int]] | None:
        return partial(tombstoned_ids, kind) if tombstoned_ids else None

    products = Sweep(
        "product",
        listing_pages(connection, page_size),
        partial(known_ids, "product"),
        tombstones("product"),
    )
    source = connection.source
    if not isinstance(source, BigCommerceEndpoint):
        return [products]
    client = BigCommerceClient.for_endpoint(source)

    def categories(number: int) -> Page:
        return client.list_categories(page=number, limit=page_size)

    def brands(number: int) -> Page:
        return client.list_brands(page=number, limit=page_size)

    return [
        Sweep("category", categories, partial(known_ids, "category"), tombstones("category")),
        Sweep("brand", brands, partial(known_ids, "brand"), tombstones("brand")),
        products,
    ]


def _pixlpay_client(endpoint: Any) -> Any:
    # Imported by name: the Pixlpay connector is optional for BigCommerce-only deployments.
    try:
        module = importlib.import_module("catalog_sync.connectors.pixlpay")
    except ImportError as exc:
        raise ConfigurationError("the Pixlpay connector is not installed") from exc
    return module.PixlpayClient.for_endpoint(endpoint)
