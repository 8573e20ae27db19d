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
