"""Drift for Pixlpay -> Medusa: every Pixlpay product against the Medusa product named `pixlpay_<id>`.

What Medusa should hold is what the engine writes (external_id_sync.py): `MedusaClient.product_parts` of
the mapped source product. What Medusa holds is read back into the same parts, and both are reduced to
one flat view per product with ids replaced by what identifies them on both sides: the category by its
handle (`category_handle`) and name, the brand by external_id and name, the sales channel by id, images
by URL; metadata is limited to the keys the engine writes (a key it deletes counts as absent). The two
views are compared by canonical hash; only a product whose hashes differ is compared field by field.

Medusa is listed once (100 products a page, ordered by id) and indexed by external_id, not looked up per
product by its handle (`find_product`): N/100 requests instead of N, and only a listing can find the
products whose source is gone.

- `missing`: a live source product with no Medusa product;
- `differs`: the views differ (the report names the fields);
- `extra`: a Medusa product named `pixlpay_<id>` that no live source product owns and that is not a
  tombstone (the engine's soft delete: draft with `metadata.pixlpay_deleted`); a tombstone is in sync;
- `unreadable`: a source product the engine could not map either (it dead-letters it).
Medusa products with other external ids are counted (`unmanaged`), not judged. Nothing is written: the
brand and category are never ensured, only read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from catalog_sync.connectors.http import HttpStatusError
from catalog_sync.connectors.medusa import (
    DELETE_KEY,
    SOFT_DELETE,
    _no_brand_module,
    brand_external_id,
    category_handle,
    handle_for,
)
from catalog_sync.connectors.pixlpay import external_id, product_from_pixlpay
from catalog_sync.drift import Drifted, DriftKind, DriftReport
from catalog_sync.errors import PermanentError
from catalog_sync.models import FlatProduct, canonical_hash

PAGE = 100
MAX_PAGES = 10_000
OURS = re.compile(r"^pixlpay_\d+$")  # seed 000's products (brands are pixlpay_brand_<slug>)
# What the comparison reads (prices are not in `*variants` unless asked; `*brand` is added when linked).
READ = (
    "id,title,handle,external_id,description,status,thumbnail,metadata,"
    "*images,*variants,*variants.prices,*categories,*sales_channels"
)


class PixlpayReader(Protocol):
    def iter_products(self, per_page: int = ...) -> Iterator[dict[str, Any]]: ...


class MedusaReader(Protocol):
    def list_products(self, **filters: Any) -> list[dict[str, Any]]: ...

    def list_brands(self, **filters: Any) -> list[dict[str, Any]]: ...

    def product_parts(
        self, product: FlatProduct, *, category_id: str | None, brand_id: str | None
    ) -> dict[str, dict[str, Any]]: ...


def medusa_drift(
    connection: str,
    source: PixlpayReader,
    destination: MedusaReader,
    *,
    brand: str | None,
    page_size: int = PAGE,
) -> DriftReport:
    """`brand`: the connection's brand (the source endpoint's), linked to every product when Medusa
    keeps brands."""
    report = DriftReport(connection)
    brand = brand if brand and _keeps_brands(destination, brand) else None
    held = _by_external_id(destination, with_brand=brand is not None, page_size=page_size)
    owned: set[str] = set()
    for data in source.iter_products(per_page=page_size):
        try:
            product = product_from_pixlpay(data)
        except PermanentError as exc:
            report.compared += 1
            report.drifted.append(_unreadable(data, exc))
            continue
        report.compared += 1
        owned.add(product.external_id)
        theirs = _owner(held.get(product.external_id, []), product.external_id)
        if theirs is None:
            report.drifted.append(_entry("missing", product, None, {}))
            continue
        wanted = _wanted(destination, product, brand)
        want, have = _view(wanted), _view(_held(theirs, wanted))
        if canonical_hash(want) == canonical_hash(have):
            report.in_sync += 1
            continue
        differing = {k: (want[k], have.get(k)) for k in want if want[k] != have.get(k)}
        report.drifted.append(_entry("differs", product, str(theirs["id"]), differing))
    for key, products in sorted(held.items()):
        if not OURS.match(key):
            report.unmanaged += len(products)
            continue
        owner = _owner(products, key) if key in owned else None
        for theirs in (p for p in products if p is not owner):  # no live source product owns these
            report.compared += 1
            undeleted = _unlike_a_tombstone(theirs)
            if not undeleted:
                report.in_sync += 1  # a tombstone: the source product is gone and Medusa says so
                continue
            sku = str(((theirs.get("variants") or [{}])[0]).get("sku") or "")
            source_id = int(key.removeprefix("pixlpay_"))
            report.drifted.append(
                Drifted("extra", sku, source_id, str(theirs["id"]), undeleted, external_id=key)
            )
    return report


def _keeps_brands(destination: MedusaReader, brand: str) -> bool:
    """Whether this Medusa has the Brand Module the engine links brands with (read only: never created)."""
    try:
        destination.list_brands(external_id=brand_external_id(brand), limit=1)
    except HttpStatusError as exc:
        if _no_brand_module(exc) is None:
            raise
        return False  # the engine syncs without a brand here too (MedusaClient.ensure_brand)
    return True


def _by_external_id(
    destination: MedusaReader, *, with_brand: bool, page_size: int
) -> dict[str, list[dict[str, Any]]]:
    """Every Medusa product by external_id, paged by offset in id order (stable while we page)."""
    fields = READ + (",*brand" if with_brand else "")
    found: dict[str, list[dict[str, Any]]] = {}
    for page in range(MAX_PAGES):
        offset = page * page_size
        products = destination.list_products(fields=fields, limit=page_size, offset=offset, order="id")
        for product in products:
            found.setdefault(str(product.get("external_id") or ""), []).append(product)
        if len(products) < page_size:
            break
    return found


def _owner(products: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The Medusa product the engine syncs for `key`: the one with its handle, as find_product finds it."""
    return next(
        (p for p in products if p.get("handle") == handle_for(key)), products[0] if products else None
    )


def _wanted(destination: MedusaReader, product: FlatProduct, brand: str | None) -> dict[str, dict[str, Any]]:
    """The parts the engine writes, with the category and brand named by what identifies them on both
    sides rather than by Medusa ids (which only Medusa knows)."""
    category = product.category
    parts = destination.product_parts(
        product,
        category_id=category_handle(category.source_id) if category else None,
        brand_id=brand_external_id(brand) if brand else None,
    )
    fields = dict(parts["fields"])
    fields["categories"] = [{**c, "name": category.name} for c in fields["categories"]] if category else []
    if "additional_data" in fields:
        fields["additional_data"] = {**fields["additional_data"], "name": brand}
    return {**parts, "fields": fields}


def _held(theirs: Mapping[str, Any], wanted: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What Medusa holds, in the shape of `wanted` (the same keys, identified the same way)."""
    want = wanted["fields"]
    fields = {
        k: theirs.get(k) for k in want if k not in ("images", "categories", "metadata", "additional_data")
    }
    ranked = sorted(enumerate(theirs.get("images") or []), key=lambda i: (i[1].get("rank", i[0]), i[0]))
    fields["images"] = [{"url": image.get("url")} for _, image in ranked]
    fields["categories"] = [
        {"id": c.get("handle"), "name": c.get("name")} for c in theirs.get("categories") or []
    ]
    metadata = theirs.get("metadata") or {}
    fields["metadata"] = {k: metadata.get(k, DELETE_KEY) for k in want["metadata"]}
    if "additional_data" in want:
        linked = theirs.get("brand") or {}
        fields["additional_data"] = {"brand_id": linked.get("external_id"), "name": linked.get("name")}
    variant = (theirs.get("variants") or [{}])[0]
    prices = [
        {"amount": p.get("amount"), "currency_code": p.get("currency_code")}
        for p in variant.get("prices") or []
    ]
    channel = wanted["channel"]["sales_channel_id"]
    channels = {c.get("id") for c in theirs.get("sales_channels") or []}
    return {
        "fields": fields,
        "price": {"sku": variant.get("sku"), "prices": prices},
        "channel": {"sales_channel_id": channel if channel in channels else None},
    }


def _view(parts: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Parts flattened to the field names the report uses."""
    fields = parts["fields"]
    view = {k: v for k, v in fields.items() if k not in ("categories", "metadata", "additional_data")}
    view["description"] = fields.get("description") or ""  # Medusa may answer null for ""
    view["category"] = fields["categories"]
    view["brand"] = fields.get("additional_data")
    for key, value in fields["metadata"].items():
        view[f"metadata.{key}"] = None if value == DELETE_KEY else value
    view["sku"] = parts["price"]["sku"]
    view["price"] = sorted(parts["price"]["prices"], key=lambda p: str(p.get("currency_code")))
    view["sales_channel"] = parts["channel"]["sales_channel_id"]
    return view


def _unlike_a_tombstone(product: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields in which `product` is not the engine's soft delete: field -> (wanted, held)."""

    def shown(p: Mapping[str, Any]) -> dict[str, Any]:
        deleted = (p.get("metadata") or {}).get("pixlpay_deleted")
        return {"status": p.get("status"), "metadata.pixlpay_deleted": deleted}

    want, have = shown(SOFT_DELETE), shown(product)
    return {k: (v, have[k]) for k, v in want.items() if have[k] != v}


def _entry(
    kind: DriftKind, product: FlatProduct, dest_id: str | None, fields: dict[str, tuple[Any, Any]]
) -> Drifted:
    return Drifted(
        kind, product.sku or "", product.source_id, dest_id, fields, external_id=product.external_id
    )


def _unreadable(data: Mapping[str, Any], exc: PermanentError) -> Drifted:
    try:
        source_id: int | None = int(data["id"])
    except (KeyError, TypeError, ValueError):
        source_id = None
    key = external_id(source_id) if source_id is not None else None
    return Drifted("unreadable", "", source_id, None, {"error": (str(exc), None)}, external_id=key)
