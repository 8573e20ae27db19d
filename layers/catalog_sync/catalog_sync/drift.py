"""Drift: both sides of a connection compared entity by entity, writing nothing.

The engine's records say what it wrote; drift says what is there now, so it finds what changed behind
the system's back (an edit or a delete made at the destination by a person or another app, a webhook
that never came). Each product is reduced to a canonical view of the fields the engine syncs, with ids
replaced by what identifies them on both sides (categories and brand by name, variants by SKU, images
by URL), and the two views are compared by hash; only a product whose hashes differ is compared field
by field to say what differs.

BigCommerce -> BigCommerce: products are matched by SKU, as the engine matches them. A source product
missing at the destination is `missing`; one whose view differs is `differs`; a destination product
this connection synced (its state maps it) whose source product is gone must be hidden and disabled
(a soft delete), else it is `not_hidden`. Destination products the connection never synced are
counted, not judged (`unmanaged`).

Pixlpay -> Medusa (products by external id) is in drift_medusa.py, with the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from catalog_sync.connectors.bigcommerce import (
    PRODUCT_INCLUDE,
    SOFT_DELETE_PAYLOAD,
    product_from_bigcommerce,
)
from catalog_sync.connectors.paging import Page
from catalog_sync.models import canonical_hash
from catalog_sync.product_parts import variant_payload
from catalog_sync.store.state import EntityState

DriftKind = Literal["differs", "missing", "not_hidden", "extra", "unreadable"]
MAX_PAGES = 10_000


class CatalogReader(Protocol):
    """What drift reads of a BigCommerce store (connectors/bigcommerce.py)."""

    def list_products(self, *, page: int, limit: int, include: str | None) -> Page: ...

    def list_categories(self, *, page: int, limit: int) -> Page: ...

    def list_brands(self, *, page: int, limit: int) -> Page: ...

    def channel_listing_state(self, channel_id: int, product_id: int) -> str | None: ...


@dataclass(frozen=True)
class Drifted:
    kind: DriftKind
    sku: str
    source_id: int | None
    dest_id: int | str | None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (source, destination)
    external_id: str | None = None  # what matches the two sides when it is not the SKU

    def as_dict(self) -> dict[str, Any]:
        matched_by = {"external_id": self.external_id} if self.external_id is not None else {}
        return {
            "kind": self.kind,
            "sku": self.sku,
            **matched_by,
            "source_id": self.source_id,
            "dest_id": self.dest_id,
            "fields": {name: {"source": a, "destination": b} for name, (a, b) in self.fields.items()},
        }


@dataclass
class DriftReport:
    connection: str
    compared: int = 0
    in_sync: int = 0
    unmanaged: int = 0
    drifted: list[Drifted] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.drifted

    def as_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "in_sync": self.clean,
            "compared": self.compared,
            "entities_in_sync": self.in_sync,
            "unmanaged_at_destination": self.unmanaged,
            "drifted": [d.as_dict() for d in self.drifted],
        }


def bigcommerce_drift(
    connection: str,
    source: CatalogReader,
    destination: CatalogReader,
    states: Iterable[EntityState],
    *,
    channel_on_source: int | None = None,
    page_size: int = 250,
) -> DriftReport:
    report = DriftReport(connection)
    at_source = _by_sku(source, page_size)
    at_dest = _by_sku(destination, page_size)
    names = (_names(source), _names(destination))
    synced = {int(s.dest_id) for s in states if s.entity_type == "product" and s.dest_id not in (None, "")}
    for sku, product in sorted(at_source.items()):
        if not sku:
            continue  # a product without SKU cannot be matched (the engine records it as an error)
        report.compared += 1
        theirs = at_dest.get(sku)
        if theirs is None:
            report.drifted.append(Drifted("missing", sku, int(product["id"]), None))
            continue
        want = product_view(product, *names[0])
        if channel_on_source is not None:  # seed 003: availability follows the channel listing
            listing = source.channel_listing_state(channel_on_source, int(product["id"]))
            want["availability"] = "available" if listing == "active" else "disabled"
        have = product_view(theirs, *names[1])
        if canonical_hash(want) == canonical_hash(have):
            report.in_sync += 1
            continue
        differing = {k: (want[k], have.get(k)) for k in want if want[k] != have.get(k)}
        report.drifted.append(Drifted("differs", sku, int(product["id"]), int(theirs["id"]), differing))
    for sku, theirs in sorted(at_dest.items()):
        if sku in at_source:
            continue
        if int(theirs["id"]) not in synced:
            report.unmanaged += 1
            continue
        report.compared += 1
        shown = {k: theirs.get(k) for k in SOFT_DELETE_PAYLOAD}
        if shown == SOFT_DELETE_PAYLOAD:
            report.in_sync += 1
        else:
            wanted = {k: (v, shown[k]) for k, v in SOFT_DELETE_PAYLOAD.items() if shown[k] != v}
            report.drifted.append(Drifted("not_hidden", sku, None, int(theirs["id"]), wanted))
    return report


def product_view(
    data: Mapping[str, Any], categories: Mapping[int, str], brands: Mapping[int, str]
) -> dict[str, Any]:
    """The synced fields of a product, comparable across stores: ids replaced by names, SKUs and URLs."""
    product = product_from_bigcommerce(data)
    view: dict[str, Any] = dict(product.model_dump(mode="json", exclude={"images", "variants", "categories"}))
    view["categories"] = sorted(categories.get(c, f"#{c}") for c in product.categories)
    view["brand_id"] = brands.get(product.brand_id, "") if product.brand_id else ""
    view["variants"] = {
        v.sku: {
            **variant_payload(v),
            "options": sorted((o.option_display_name, o.label) for o in v.option_values),
        }
        for v in product.variants
    }
    view["images"] = sorted(
        (i.image_url, i.is_thumbnail, i.sort_order, i.description) for i in product.images
    )
    return view


def _by_sku(store: CatalogReader, page_size: int) -> dict[str, dict[str, Any]]:
    pages = _every(lambda n: store.list_products(page=n, limit=page_size, include=PRODUCT_INCLUDE))
    return {str(p.get("sku") or ""): p for p in pages}


def _names(store: CatalogReader) -> tuple[dict[int, str], dict[int, str]]:
    """Category ids -> their path of names ("Kitchen > Mugs"), brand ids -> names."""
    categories = {int(c["id"]): c for c in _every(lambda n: store.list_categories(page=n, limit=250))}

    def path(category_id: int) -> str:
        parts: list[str] = []
        seen: set[int] = set()
        while category_id in categories and category_id not in seen:  # bounded: a cycle stops it
            seen.add(category_id)
            parts.append(str(categories[category_id]["name"]))
            category_id = int(categories[category_id].get("parent_id") or 0)
        return " > ".join(reversed(parts))

    brands = {int(b["id"]): str(b["name"]) for b in _every(lambda n: store.list_brands(page=n, limit=250))}
    return {cid: path(cid) for cid in categories}, brands


def _every(fetch: Callable[[int], Page]) -> Iterator[dict[str, Any]]:
    for number in range(1, MAX_PAGES + 1):
        page = fetch(number)
        yield from page.items
        if page.is_last or not page.items:
            return
