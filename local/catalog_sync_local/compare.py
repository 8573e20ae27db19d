"""Is store B's catalog what store A's says it should be? Field by field, for the fields we sync."""

from __future__ import annotations

from typing import Any

from catalog_sync_local.bigcommerce_sim import BigCommerceStore

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


def catalog_differences(
    source: BigCommerceStore, destination: BigCommerceStore, *, deleted_skus: frozenset[str] = frozenset()
) -> list[str]:
    """Every way B differs from A: missing, extra or different products, and deletes not applied."""
    problems: list[str] = []
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
