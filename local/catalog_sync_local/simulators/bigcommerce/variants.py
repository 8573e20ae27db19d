"""Variants of a simulated BigCommerce product. Every product has a base variant (no option values, the
product's SKU, which it follows); variants with option values sit beside it, one per combination. Creating,
updating and deleting a variant fires `store/sku/*` with `sku.product_id` / `sku.variant_id`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    VARIANT_FIELDS,
    check_fields,
    conflict,
    defaults,
    invalid,
    not_found,
    pick,
    require_object,
)
from catalog_sync_local.simulators.bigcommerce.options import OptionCatalog


class VariantCatalog(OptionCatalog):
    """Variants, per product; their option values resolve through the options below."""

    def list_variants(self, product_id: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            if product_id is None:
                return [self._variant_view(v) for _, v in sorted(self._variants.items())]
            self._product(product_id)
            return [self._variant_view(self._variants[v]) for v in sorted(self._variants_of[product_id])]

    def get_variant(self, product_id: int, variant_id: int) -> dict[str, Any]:
        with self.lock:
            return self._variant_view(self._variant(product_id, variant_id))

    def create_variant(self, product_id: int, body: Any) -> dict[str, Any]:
        with self.lock:
            self._product(product_id)
            body = require_object(body)
            errors = self._variant_errors(body, "", needs_options=True)
            if errors:
                raise invalid(errors)
            self._check_sku_conflicts([body.get("sku", "")])
            variant = self._new_variant(product_id, body, base=False)
            self._touch(product_id)
            self.emit("store/sku/created", sku_event(variant))
            return self._variant_view(variant)

    def update_variant(self, product_id: int | None, variant_id: int, body: Any) -> dict[str, Any]:
        """Update one variant; `product_id=None` (the batch `PUT /catalog/variants`) finds its product."""
        with self.lock:
            if product_id is None:
                product_id = self._variants[variant_id]["product_id"] if variant_id in self._variants else 0
            variant = self._variant(product_id, variant_id)
            body = require_object(body)
            errors = self._variant_errors(body, "", needs_options=False)
            if errors:
                raise invalid(errors)
            is_base = variant["id"] == self._products[product_id]["base_variant_id"]
            if body.get("sku") and body["sku"] != variant["sku"]:
                self._check_sku_conflicts([body["sku"]], exclude_variant=variant_id)
            changes = {k: v for k, v in pick(body, VARIANT_FIELDS).items() if variant.get(k) != v}
            if "option_values" in body and not is_base:
                option_values = self._option_values(product_id, body["option_values"])
                if option_values != variant["option_values"]:
                    changes["option_values"] = option_values
            if changes:
                variant.update(changes)
                if is_base and "sku" in changes:
                    self._products[product_id]["sku"] = changes["sku"]
                self._touch(product_id)
                self.emit("store/sku/updated", sku_event(variant))
            return self._variant_view(variant)

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        with self.lock:
            variant = self._variant(product_id, variant_id)
            if variant_id == self._products[product_id]["base_variant_id"]:
                raise invalid({"id": "The base variant of a product cannot be deleted"})
            del self._variants[variant_id]
            self._variants_of[product_id].discard(variant_id)
            self._touch(product_id)
            self.emit("store/sku/deleted", sku_event(variant))

    def variant_product(self, variant_id: int) -> int | None:
        with self.lock:
            variant = self._variants.get(variant_id)
            return None if variant is None else int(variant["product_id"])

    def _variant(self, product_id: int, variant_id: int) -> dict[str, Any]:
        self._product(product_id)
        variant = self._variants.get(variant_id)
        if variant is None or variant["product_id"] != product_id:
            raise not_found("variant", variant_id)
        return variant

    def _variant_errors(self, body: Any, prefix: str, *, needs_options: bool) -> dict[str, str]:
        if not isinstance(body, Mapping):
            return {prefix.rstrip(".") or "body": "error.expected.jsobject"}
        errors = check_fields(body, VARIANT_FIELDS, prefix=prefix)
        option_values = body.get("option_values")
        if option_values is None:
            if needs_options:
                errors[f"{prefix}option_values"] = "error.path.missing"
            return errors
        if not isinstance(option_values, list) or (needs_options and not option_values):
            errors[f"{prefix}option_values"] = "error.expected.jsarray"
            return errors
        for i, ov in enumerate(option_values):
            if (
                isinstance(ov, Mapping)
                and isinstance(ov.get("id"), int)
                and isinstance(ov.get("option_id"), int)
            ):
                continue  # productVariantOptionValue_Post: an existing option value by id
            for key in ("option_display_name", "label"):
                if not (isinstance(ov, Mapping) and isinstance(ov.get(key), str) and ov[key].strip()):
                    errors[f"{prefix}option_values.{i}.{key}"] = "error.path.missing"
        return errors

    def _new_variant(self, product_id: int, body: Mapping[str, Any], *, base: bool) -> dict[str, Any]:
        vid = next(self._ids["variant"])
        variant = defaults(VARIANT_FIELDS) | pick(body, VARIANT_FIELDS)
        option_values = [] if base else self._option_values(product_id, body["option_values"])
        if not base:
            combo = option_combo(option_values)
            for other in (self._variants[v] for v in self._variants_of[product_id]):
                if other["option_values"] and option_combo(other["option_values"]) == combo:
                    raise conflict("A variant with these option values already exists", "option_values")
        variant.update(
            id=vid,
            product_id=product_id,
            sku_id=None if base else next(self._ids["sku"]),
            option_values=option_values,
        )
        self._variants[vid] = variant
        self._variants_of[product_id].add(vid)
        return variant

    def _variant_view(self, variant: Mapping[str, Any]) -> dict[str, Any]:
        product = self._products[variant["product_id"]]
        view = copy.deepcopy({k: v for k, v in variant.items() if k != "image_url"})
        view["calculated_price"] = product["price"] if variant["price"] is None else variant["price"]
        view["calculated_weight"] = product["weight"] if variant["weight"] is None else variant["weight"]
        return view


def sku_event(variant: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "sku",
        "id": variant["sku_id"] if variant["sku_id"] is not None else variant["id"],
        "sku": {"product_id": variant["product_id"], "variant_id": variant["id"]},
    }


def option_combo(option_values: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((ov["option_display_name"], ov["label"]) for ov in option_values))
