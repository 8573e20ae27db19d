"""Is the destination's catalog what the source's says it should be? Field by field, for the fields we
sync: BigCommerce store B against store A, and Medusa against Pixlpay (seeds 000 and 002)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from catalog_sync_local.simulators.medusa.store import MedusaStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore

PRODUCT_FIELDS = (
    "name",
    "type",
    "description",
    "price",
    "sale_price",
    "weight",
    "is_visible",
    "availability",
)


def product_view(store: BigCommerceStore, product: dict[str, Any]) -> dict[str, Any]:
    """A product as comparable data: ids replaced by names, children keyed by SKU / URL."""
    full = store.get_product(product["id"], include="variants,images") or product
    categories = {c["id"]: c["name"] for c in store.categories()}
    brands = {b["id"]: b["name"] for b in store.brands()}
    return {
        **{f: full.get(f) for f in PRODUCT_FIELDS},
        "categories": sorted(categories.get(c, f"?{c}") for c in full.get("categories") or []),
        "brand": brands.get(full.get("brand_id") or 0, ""),
        "variants": {
            v["sku"]: (
                v.get("price"),
                sorted((o["option_display_name"], o["label"]) for o in v["option_values"]),
            )
            for v in full.get("variants") or []
            if v.get("option_values")
        },
        "images": sorted((i.get("image_url"), bool(i.get("is_thumbnail"))) for i in full.get("images") or []),
    }


def category_differences(
    source: BigCommerceStore, destination: BigCommerceStore, *, deleted: frozenset[str] = frozenset()
) -> list[str]:
    """B's visible categories must be A's, compared by (name, parent's name); a category deleted in A
    (named in `deleted`) must be hidden in B (the engine soft-deletes: is_visible false) or absent."""
    problems: list[str] = []
    wanted = {_category_key(c, source.categories()) for c in source.categories()}
    b_all = destination.categories()
    visible = {_category_key(c, b_all) for c in b_all if c.get("is_visible", True)}
    for name, parent in sorted(wanted - visible):
        problems.append(
            f"category {name!r} (under {parent or 'the root'!r}): missing or hidden in destination"
        )
    for name, parent in sorted(visible - wanted):
        problems.append(
            f"category {name!r} (under {parent or 'the root'!r}): visible in destination, not in source"
        )
    for name in sorted(deleted):
        if any(c["name"] == name and c.get("is_visible", True) for c in b_all):
            problems.append(f"category {name!r}: deleted at the source but still visible at the destination")
    return problems


def _category_key(category: dict[str, Any], everything: list[dict[str, Any]]) -> tuple[str, str]:
    names = {c["id"]: c["name"] for c in everything}
    return str(category["name"]), names.get(category.get("parent_id") or 0, "")


def catalog_differences(
    source: BigCommerceStore,
    destination: BigCommerceStore,
    *,
    deleted_skus: frozenset[str] = frozenset(),
    check_categories: bool = False,
    deleted_categories: frozenset[str] = frozenset(),
) -> list[str]:
    """Every way B differs from A: missing, extra or different products, and deletes not applied;
    with `check_categories`, the category tree too (see `category_differences`)."""
    problems: list[str] = []
    if check_categories:
        problems += category_differences(source, destination, deleted=deleted_categories)
    wanted = {p["sku"]: p for p in source.products()}
    present = {p["sku"]: p for p in destination.products()}
    for sku, product in sorted(wanted.items()):
        if sku not in present:
            problems.append(f"{sku}: missing in destination")
            continue
        a, b = product_view(source, product), product_view(destination, present[sku])
        for field in a:
            if a[field] != b[field]:
                problems.append(f"{sku}.{field}: source {a[field]!r} != destination {b[field]!r}")
    for sku in sorted(deleted_skus):
        tombstone = present.get(sku)
        if tombstone is None:
            continue
        if tombstone.get("is_visible") or tombstone.get("availability") != "disabled":
            problems.append(f"{sku}: deleted at the source but still visible/available at the destination")
    for sku in sorted(set(present) - set(wanted) - set(deleted_skus)):
        problems.append(f"{sku}: in destination but not in source")
    return problems


# --- Pixlpay -> Medusa --------------------------------------------------------------------------------


def pixlpay_expected(product: Mapping[str, Any], *, brand: str | None) -> dict[str, Any]:
    """What Medusa should hold for a Pixlpay product (seed 000's mapping, seed 002's brand)."""
    images = sorted(product.get("images") or [], key=lambda i: not i.get("is_primary", False))
    category = product.get("category")
    return {
        "title": product["name"],
        "description": product.get("description") or "",
        "status": "published" if product.get("is_active", True) else "draft",
        "price": float(product.get("price") or 0),
        "thumbnail": images[0]["url"] if images else None,
        "images": [i["url"] for i in images],
        "categories": [category["name"]] if isinstance(category, Mapping) and category.get("name") else [],
        "brand": brand or "",
    }


def medusa_view(medusa: MedusaStore, product: Mapping[str, Any]) -> dict[str, Any]:
    """A Medusa product as comparable data: category ids replaced by names, the one variant's price."""
    names = {c["id"]: c["name"] for c in medusa.categories()}
    variants = product.get("variants") or []
    prices = (variants[0].get("prices") or []) if variants else []
    return {
        "title": product.get("title"),
        "description": product.get("description") or "",
        "status": product.get("status"),
        "price": float(prices[0]["amount"]) if prices else None,
        "thumbnail": product.get("thumbnail"),
        "images": [i["url"] for i in product.get("images") or []],
        "categories": sorted(names.get(c["id"], f"?{c['id']}") for c in product.get("categories") or []),
        "brand": (product.get("brand") or {}).get("name", ""),
    }


def medusa_differences(
    source: PixlpayStore,
    destination: MedusaStore,
    *,
    brand: str | None,
    deleted_ids: frozenset[int] = frozenset(),
) -> list[str]:
    """Every way Medusa differs from Pixlpay: each Pixlpay product must be in Medusa by external_id
    `pixlpay_<id>` (seed 000) with its title, description, status, price, images, category and the
    connection's brand, a brand carrying an external_id (seed 002); each product in `deleted_ids` (deleted
    at the source after it had synced) must be kept soft-deleted (draft, `metadata.pixlpay_deleted`);
    no other Pixlpay product may be in Medusa."""
    problems: list[str] = []
    present = {p["external_id"]: p for p in destination.products() if p.get("external_id")}
    wanted = {f"pixlpay_{p['id']}": p for p in source.products()}
    for external_id, product in sorted(wanted.items()):
        copied = present.get(external_id)
        if copied is None:
            problems.append(f"{external_id}: missing in Medusa")
            continue
        expected, actual = pixlpay_expected(product, brand=brand), medusa_view(destination, copied)
        for field, value in expected.items():
            if actual[field] != value:
                problems.append(f"{external_id}.{field}: Pixlpay {value!r} != Medusa {actual[field]!r}")
        linked = copied.get("brand") or {}
        if brand and not linked.get("external_id"):
            problems.append(f"{external_id}: brand {linked.get('name')!r} has no external_id (seed 002)")
    for source_id in sorted(deleted_ids):
        external_id = f"pixlpay_{source_id}"
        tombstone = present.get(external_id)
        if tombstone is None:
            problems.append(f"{external_id}: deleted at the source, but no soft-deleted copy in Medusa")
        elif tombstone.get("status") != "draft" or not (tombstone.get("metadata") or {}).get(
            "pixlpay_deleted"
        ):
            problems.append(f"{external_id}: deleted at the source but still live in Medusa")
    for external_id in sorted(set(present) - set(wanted) - {f"pixlpay_{i}" for i in deleted_ids}):
        if external_id.startswith("pixlpay_"):
            problems.append(f"{external_id}: in Medusa but not in Pixlpay")
    return problems
