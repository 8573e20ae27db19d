"""Variant options of a simulated BigCommerce product (`/catalog/products/{id}/options` and their
values), and how a variant's `option_values` resolve against them: by display name and label (created on
first use, as a product create with inline variants does) or by `id` + `option_id` (which must exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    conflict,
    invalid,
    not_found,
    require_list,
    require_object,
)
from catalog_sync_local.simulators.bigcommerce.records import CatalogRecords

OPTION_TYPES = (
    "radio_buttons",
    "rectangles",
    "dropdown",
    "product_list",
    "product_list_with_images",
    "swatch",
)


class OptionCatalog(CatalogRecords):
    """Options and option values, per product."""

    def list_options(self, product_id: int) -> list[dict[str, Any]]:
        with self.lock:
            self._product(product_id)
            return [self._option_view(product_id, name) for name in self._options[product_id]]

    def get_option(self, product_id: int, option_id: int) -> dict[str, Any]:
        with self.lock:
            return self._option_view(product_id, self._option_name(product_id, option_id))

    def create_option(self, product_id: int, body: Any) -> dict[str, Any]:
        with self.lock:
            self._product(product_id)
            body = require_object(body)
            name, kind = body.get("display_name"), body.get("type")
            errors: dict[str, str] = {}
            if not (isinstance(name, str) and name.strip()):
                errors["display_name"] = "error.path.missing"
            if kind not in OPTION_TYPES:
                errors["type"] = "error.expected.validenumvalue"
            values = require_list(body.get("option_values", []), "option_values")
            for i, value in enumerate(values):
                if not (
                    isinstance(value, Mapping) and isinstance(value.get("label"), str) and value["label"]
                ):
                    errors[f"option_values.{i}.label"] = "error.path.missing"
            if errors:
                raise invalid(errors)
            if name in self._options[product_id]:
                raise conflict(f"The option '{name}' already exists on this product", "display_name")
            option = {"id": next(self._option_ids), "type": kind, "values": {}}
            for value in values:
                option["values"].setdefault(value["label"], next(self._option_ids))
            self._options[product_id][name] = option
            self._touch(product_id)
            return self._option_view(product_id, name)

    def list_option_values(self, product_id: int, option_id: int) -> list[dict[str, Any]]:
        with self.lock:
            option = self._option_view(product_id, self._option_name(product_id, option_id))
            return list(option["option_values"])

    def create_option_value(self, product_id: int, option_id: int, body: Any) -> dict[str, Any]:
        with self.lock:
            name = self._option_name(product_id, option_id)
            body = require_object(body)
            label = body.get("label")
            errors: dict[str, str] = {}
            if not (isinstance(label, str) and label.strip()):
                errors["label"] = "error.path.missing"
            if not isinstance(body.get("sort_order"), int):
                errors["sort_order"] = "error.path.missing"
            if errors:
                raise invalid(errors)
            values = self._options[product_id][name]["values"]
            if label in values:
                raise conflict(f"The option value '{label}' already exists", "label")
            values[label] = next(self._option_ids)
            self._touch(product_id)
            return next(v for v in self.list_option_values(product_id, option_id) if v["label"] == label)

    def _option_values(self, product_id: int, given: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Resolve option values by display name and label (creating options and values on first use, as
        a product create with inline variants does) or by `id` + `option_id` (as `POST .../variants` on an
        existing product requires: those must exist, see the options endpoints)."""
        options = self._options[product_id]
        resolved = []
        for ov in given:
            if "option_id" in ov and "id" in ov and "label" not in ov:
                name, label = self._option_value_by_id(product_id, ov["option_id"], ov["id"])
            else:
                name, label = ov["option_display_name"], ov["label"]
            option = options.setdefault(
                name, {"id": next(self._option_ids), "type": "dropdown", "values": {}}
            )
            value_id = option["values"].setdefault(label, next(self._option_ids))
            resolved.append(
                {"id": value_id, "label": label, "option_id": option["id"], "option_display_name": name}
            )
        return resolved

    def _option_value_by_id(self, product_id: int, option_id: Any, value_id: Any) -> tuple[str, str]:
        for name, option in self._options[product_id].items():
            if option["id"] == option_id:
                for label, vid in option["values"].items():
                    if vid == value_id:
                        return name, label
                raise invalid(
                    {"option_values": f"Option value {value_id} does not exist on option {option_id}"}
                )
        raise invalid({"option_values": f"Option {option_id} does not exist on product {product_id}"})

    def _option_name(self, product_id: int, option_id: int) -> str:
        self._product(product_id)
        for name, option in self._options[product_id].items():
            if option["id"] == option_id:
                return name
        raise not_found("option", option_id)

    def _option_view(self, product_id: int, name: str) -> dict[str, Any]:
        option = self._options[product_id][name]
        return {
            "id": option["id"],
            "product_id": product_id,
            "name": f"{name}{product_id}-{option['id']}",
            "display_name": name,
            "type": option.get("type", "dropdown"),
            "sort_order": 0,
            "config": {},
            "option_values": [
                {"id": vid, "label": label, "sort_order": n, "value_data": {}, "is_default": False}
                for n, (label, vid) in enumerate(option["values"].items())
            ],
        }
