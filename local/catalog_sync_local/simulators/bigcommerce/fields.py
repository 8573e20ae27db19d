"""Field tables and request validation of the simulated BigCommerce API, and its error bodies.

Each table maps a writable field to (kind, default); the kinds follow catalog.v3.yml (`num?` = a number or
null, `x-nullable` in the spec). Validation answers like BigCommerce does: a 422 whose `errors` map a field
path to a code such as `error.path.missing` or `error.expected.jsnumber`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"

Kind = str | tuple[str, ...]  # a kind name, or the allowed values of an enum
FieldTable = Mapping[str, tuple[Kind, Any]]

PRODUCT_FIELDS: FieldTable = {
    "name": ("str", ""),
    "type": (("physical", "digital"), "physical"),
    "sku": ("str", ""),
    "description": ("str", ""),
    "weight": ("num", 0),
    "width": ("num", 0),
    "depth": ("num", 0),
    "height": ("num", 0),
    "price": ("num", 0),
    "cost_price": ("num", 0),
    "retail_price": ("num", 0),
    "sale_price": ("num", 0),
    "map_price": ("num", 0),
    "tax_class_id": ("int", 0),
    "product_tax_code": ("str", ""),
    "categories": ("ints", []),
    "brand_id": ("int", 0),
    "inventory_level": ("int", 0),
    "inventory_warning_level": ("int", 0),
    "inventory_tracking": (("none", "product", "variant"), "none"),
    "fixed_cost_shipping_price": ("num", 0),
    "is_free_shipping": ("bool", False),
    "is_visible": ("bool", True),
    "is_featured": ("bool", False),
    "related_products": ("ints", []),
    "warranty": ("str", ""),
    "bin_picking_number": ("str", ""),
    "layout_file": ("str", "product.html"),
    "upc": ("str", ""),
    "mpn": ("str", ""),
    "gtin": ("str", ""),
    "search_keywords": ("str", ""),
    "availability": (("available", "disabled", "preorder"), "available"),
    "availability_description": ("str", ""),
    "gift_wrapping_options_type": (("any", "none", "list"), "any"),
    "gift_wrapping_options_list": ("ints", []),
    "sort_order": ("int", 0),
    "condition": (("New", "Used", "Refurbished"), "New"),
    "is_condition_shown": ("bool", False),
    "order_quantity_minimum": ("int", 0),
    "order_quantity_maximum": ("int", 0),
    "page_title": ("str", ""),
    "meta_keywords": ("strs", []),
    "meta_description": ("str", ""),
    "preorder_release_date": ("str?", None),
    "preorder_message": ("str", ""),
    "is_preorder_only": ("bool", False),
    "is_price_hidden": ("bool", False),
    "price_hidden_label": ("str", ""),
    "custom_url": ("custom_url", None),
    "open_graph_type": (
        ("product", "album", "book", "drink", "food", "game", "movie", "song", "tv_show"),
        "product",
    ),
    "open_graph_title": ("str", ""),
    "open_graph_description": ("str", ""),
    "open_graph_use_meta_description": ("bool", True),
    "open_graph_use_product_name": ("bool", True),
    "open_graph_use_image": ("bool", True),
}
PRODUCT_REQUIRED = ("name", "type", "weight", "price")

VARIANT_FIELDS: FieldTable = {
    "sku": ("str", ""),
    "price": ("num?", None),
    "sale_price": ("num?", None),
    "retail_price": ("num?", None),
    "cost_price": ("num?", None),
    "weight": ("num?", None),
    "width": ("num?", None),
    "height": ("num?", None),
    "depth": ("num?", None),
    "is_free_shipping": ("bool", False),
    "fixed_cost_shipping_price": ("num?", None),
    "purchasing_disabled": ("bool", False),
    "purchasing_disabled_message": ("str", ""),
    "image_url": ("str", ""),  # write-only in the spec: accepted, not in variant responses
    "upc": ("str?", ""),
    "mpn": ("str", ""),
    "inventory_level": ("int?", 0),
    "inventory_warning_level": ("int?", 0),
    "bin_picking_number": ("str?", ""),
}

IMAGE_FIELDS: FieldTable = {
    "image_url": ("str", ""),
    "is_thumbnail": ("bool", False),
    "sort_order": ("int", 0),
    "description": ("str", ""),
}

CATEGORY_FIELDS: FieldTable = {
    "parent_id": ("int", 0),
    "name": ("str", ""),
    "description": ("str", ""),
    "sort_order": ("int", 0),
    "page_title": ("str", ""),
    "search_keywords": ("str", ""),
    "meta_keywords": ("strs", []),
    "meta_description": ("str", ""),
    "layout_file": ("str", "category.html"),
    "is_visible": ("bool", True),
    "default_product_sort": (
        (
            "use_store_settings",
            "featured",
            "newest",
            "best_selling",
            "alpha_asc",
            "alpha_desc",
            "avg_customer_review",
            "price_asc",
            "price_desc",
        ),
        "use_store_settings",
    ),
    "image_url": ("str", ""),
    "custom_url": ("custom_url", None),
}

BRAND_FIELDS: FieldTable = {
    "name": ("str", ""),
    "page_title": ("str", ""),
    "meta_keywords": ("strs", []),
    "meta_description": ("str", ""),
    "search_keywords": ("str", ""),
    "image_url": ("str", ""),
    "custom_url": ("custom_url", None),
}

LISTING_STATES = (
    "active",
    "disabled",
    "error",
    "pending",
    "pending_disable",
    "pending_delete",
    "queued",
    "rejected",
    "submitted",
    "deleted",
    "unknown",
)


class ApiError(Exception):
    """An error answer of the simulated API: HTTP status plus BigCommerce's error body."""

    def __init__(self, status: int, title: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {title}" + (f" {dict(errors)}" if errors else ""))
        self.status = status
        self.title = title
        self.errors = dict(errors or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "title": self.title, "type": ERROR_TYPE}
        if self.errors or self.status in (409, 422):
            body["errors"] = dict(self.errors)
        return body


def invalid(errors: Mapping[str, str]) -> ApiError:
    return ApiError(422, "JSON data is missing or invalid", errors)


def not_found(what: str, ident: object) -> ApiError:
    # catalog.v3.yml's 404 body (errorNotFound) has no `errors`: the title names what is missing
    return ApiError(404, f"The requested {what} {ident} was not found.")


def conflict(title: str, field: str) -> ApiError:
    return ApiError(409, title, {field: title})


def defaults(table: FieldTable) -> dict[str, Any]:
    return {name: copy.deepcopy(default) for name, (_, default) in table.items()}


def check_fields(
    body: Mapping[str, Any],
    table: FieldTable,
    *,
    required: tuple[str, ...] = (),
    prefix: str = "",
) -> dict[str, str]:
    """Error codes for missing or mistyped fields (unknown fields are ignored, like the live API)."""
    errors = {f"{prefix}{name}": "error.path.missing" for name in required if name not in body}
    for name, value in body.items():
        if name in table:
            code = _type_error(table[name][0], value)
            if code:
                errors[f"{prefix}{name}"] = code
    if "name" in table and isinstance(body.get("name"), str) and not body["name"].strip():
        errors[f"{prefix}name"] = "error.minLength"
    return errors


def pick(body: Mapping[str, Any], table: FieldTable) -> dict[str, Any]:
    """The writable fields of a validated body, deep-copied."""
    return {name: copy.deepcopy(value) for name, value in body.items() if name in table}


def require_object(body: Any, what: str = "body") -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise invalid({what: "error.expected.jsobject"})
    return body


def require_list(body: Any, what: str = "body") -> list[Any]:
    if not isinstance(body, list):
        raise invalid({what: "error.expected.jsarray"})
    return body


def _type_error(kind: Kind, value: Any) -> str | None:
    if isinstance(kind, tuple):
        return None if value in kind else "error.expected.validenumvalue"
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    checks: dict[str, tuple[bool, str]] = {
        "str": (isinstance(value, str), "error.expected.jsstring"),
        "num": (_is_number(value) and value >= 0, "error.expected.jsnumber"),
        "int": (isinstance(value, int) and not isinstance(value, bool), "error.expected.jsnumber"),
        "bool": (isinstance(value, bool), "error.expected.jsboolean"),
        "ints": (
            isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value),
            "error.expected.jsarray",
        ),
        "strs": (
            isinstance(value, list) and all(isinstance(v, str) for v in value),
            "error.expected.jsarray",
        ),
        "custom_url": (
            isinstance(value, Mapping) and isinstance(value.get("url", ""), str),
            "error.expected.jsobject",
        ),
    }
    ok, code = checks[kind]
    return None if ok else code


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- time and URLs ------------------------------------------------------------------------------------


def iso_seconds(timestamp: float) -> str:
    """BigCommerce's timestamp format: ISO-8601, second resolution, `+00:00`."""
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat()


def parse_time_filter(value: str, now: float) -> float:
    """A `date_modified:min|max` value as a unix time. A bare date gets the current time of day appended
    (BigCommerce does this, so `2024-05-01` means `2024-05-01T<now>`); a naive timestamp is UTC."""
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.fromisoformat(text).date()
            clock = datetime.fromtimestamp(int(now), UTC).timetz()
            return datetime.combine(day, clock).timestamp()
        # An unencoded '+' in a query string arrives as ' ': "...T14:49:05 00:00".
        text = re.sub(r"(T[\d:.]+) (\d{2}:?\d{2})$", r"\1+\2", text)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid({"date_modified": f"'{value}' is not an ISO-8601 timestamp"}) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "item"
