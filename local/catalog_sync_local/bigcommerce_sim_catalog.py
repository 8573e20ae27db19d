"""The in-memory catalog of one simulated BigCommerce store: products, variants, images, categories, brands
and channel listings.

HTTP routes and the programmatic "merchant dashboard" API both call these methods, so there is one code path
per mutation. Every call holds the catalog lock, validates like the live API (ApiError 422 / 404 / 409),
stamps the product's `date_modified`, and reports the webhook scopes it triggers through `emit`:
`store/product/*`, `store/sku/*` (variants, data carrying `sku.product_id` / `sku.variant_id`) and
`store/category/*`. Creating an image fires `store/product/updated` `image_update_events` times (twice in
the live API, as seed 003 observed); creating a variant fires only `store/sku/created`. Writes that change
nothing neither move `date_modified` nor fire a hook.

Every product has a base variant (no option values, same SKU as the product); variants with option values
sit beside it.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog_sync_local.bigcommerce_sim_fields import (
    IMAGE_FIELDS,
    PRODUCT_FIELDS,
    PRODUCT_REQUIRED,
    VARIANT_FIELDS,
    ApiError,
    check_fields,
    conflict,
    defaults,
    invalid,
    iso_seconds,
    not_found,
    pick,
    require_list,
    require_object,
    slug,
)
from catalog_sync_local.bigcommerce_sim_listings import Listings
from catalog_sync_local.bigcommerce_sim_taxonomy import Taxonomy

Emit = Callable[[str, dict[str, Any]], None]
OPTION_TYPES = (
    "radio_buttons",
    "rectangles",
    "dropdown",
    "product_list",
    "product_list_with_images",
    "swatch",
)
PRODUCT_SORTS = (
    "id",
    "name",
    "sku",
    "price",
    "date_modified",
    "date_last_imported",
    "inventory_level",
    "is_visible",
    "total_sold",
)


@dataclass
class ProductQuery:
    """Filters, order and page of `GET /catalog/products` (parsed from the query string by the routes)."""

    ids: set[int] | None = None
    not_ids: set[int] = field(default_factory=set)
    id_min: int | None = None
    id_max: int | None = None
    skus: set[str] | None = None
    equals: dict[str, Any] = field(default_factory=dict)  # name, type, availability, brand_id, is_visible
    categories: set[int] | None = None
    keyword: str | None = None
    modified_min: float | None = None
    modified_max: float | None = None
    sort: str = "id"
    descending: bool = False
    offset: int = 0
    limit: int = 50
    include: frozenset[str] = frozenset()


class Catalog:
    def __init__(
        self,
        *,
        store_hash: str,
        clock: Callable[[], float],
        emit: Emit,
        image_update_events: int = 2,
    ) -> None:
        self.lock = threading.RLock()
        self.store_hash = store_hash
        self.clock = clock
        self.emit = emit
        self.image_update_events = image_update_events
        self.taxonomy = Taxonomy(lock=self.lock, clock=clock, emit=emit, on_detach=self._detach)
        self.listings = Listings(lock=self.lock, clock=clock, variants_of=self._variant_ids)
        self._products: dict[int, dict[str, Any]] = {}
        self._variants: dict[int, dict[str, Any]] = {}
        self._images: dict[int, dict[str, Any]] = {}
        self._variants_of: dict[int, set[int]] = {}  # product id -> its variant ids
        self._images_of: dict[int, set[int]] = {}  # product id -> its image ids
        self._options: dict[int, dict[str, dict[str, Any]]] = {}  # product -> display name -> option
        self._ids = {
            name: itertools.count(start)
            for name, start in {"product": 101, "variant": 1001, "sku": 5001, "image": 3001}.items()
        }
        self._option_ids = itertools.count(401)

    # --- products ---------------------------------------------------------------------------------------

    def create_product(self, body: Any, include: Iterable[str] = ("variants", "images")) -> dict[str, Any]:
        with self.lock:
            body = require_object(body)
            errors = check_fields(body, PRODUCT_FIELDS, required=PRODUCT_REQUIRED)
            variants = require_list(body.get("variants", []), "variants")
            images = require_list(body.get("images", []), "images")
            for i, v in enumerate(variants):
                errors |= self._variant_errors(v, f"variants.{i}.", needs_options=True)
            for i, im in enumerate(images):
                errors |= _image_errors(im, f"images.{i}.", creating=True)
            if errors:
                raise invalid(errors)
            self._check_product_conflicts(body, None)
            self._check_sku_conflicts([body.get("sku", ""), *(v.get("sku", "") for v in variants)])
            combos = [_combo(v["option_values"]) for v in variants]
            if len(set(combos)) < len(combos):
                raise conflict("Two variants have the same option values", "variants")
            pid = next(self._ids["product"])
            now = self._now()
            product = defaults(PRODUCT_FIELDS) | pick(body, PRODUCT_FIELDS)
            product.update(id=pid, date_created=now, date_modified=now, view_count=0, total_sold=0)
            if not product["custom_url"]:
                product["custom_url"] = {"url": f"/{slug(product['name'])}/", "is_customized": False}
            self._products[pid] = product
            self._options[pid] = {}
            self._variants_of[pid], self._images_of[pid] = set(), set()
            base = self._new_variant(pid, {"sku": product["sku"]}, base=True)
            product["base_variant_id"] = base["id"]
            self.emit("store/product/created", {"type": "product", "id": pid})
            for v in variants:
                self.emit("store/sku/created", _sku_event(self._new_variant(pid, v, base=False)))
            for im in images:
                self._new_image(pid, im)
            return self.product_view(pid, include)

    def update_product(
        self, product_id: int, body: Any, include: Iterable[str] = ("variants", "images")
    ) -> dict[str, Any]:
        with self.lock:
            product = self._product(product_id)
            body = require_object(body)
            errors = check_fields(body, PRODUCT_FIELDS)
            variants = require_list(body.get("variants", []), "variants")
            images = require_list(body.get("images", []), "images")
            for i, v in enumerate(variants):
                errors |= self._variant_errors(v, f"variants.{i}.", needs_options=not _has_id(v))
            for i, im in enumerate(images):
                errors |= _image_errors(im, f"images.{i}.", creating=not _has_id(im))
            if errors:
                raise invalid(errors)
            self._check_product_conflicts(body, product_id)
            changes = {k: v for k, v in pick(body, PRODUCT_FIELDS).items() if product.get(k) != v}
            if changes:
                product.update(changes)
                if "sku" in changes:
                    self._variants[product["base_variant_id"]]["sku"] = changes["sku"]
                self._touch(product_id)
                self.emit("store/product/updated", {"type": "product", "id": product_id})
            for v in variants:  # the product body may carry variants: by id an update, without a create
                if "id" in v:
                    self.update_variant(product_id, v["id"], v)
                else:
                    self.create_variant(product_id, v)
            for im in images:
                if "id" in im:
                    self.update_image(product_id, im["id"], im)
                else:
                    self.create_image(product_id, im)
            return self.product_view(product_id, include)

    def update_products(
        self, items: Any, include: Iterable[str] = ()
    ) -> tuple[list[dict[str, Any]], dict[int, ApiError]]:
        """Batch update: (updated products, errors by position). Each item is applied on its own."""
        with self.lock:
            updated: list[dict[str, Any]] = []
            failures: dict[int, ApiError] = {}
            for index, raw in enumerate(require_list(items)):
                try:
                    item = require_object(raw, f"{index}")
                    if not isinstance(item.get("id"), int):
                        raise invalid({"id": "error.path.missing"})
                    updated.append(self.update_product(item["id"], item, include))
                except ApiError as exc:
                    failures[index] = exc
            return updated, failures

    def delete_product(self, product_id: int) -> None:
        with self.lock:
            self._product(product_id)
            for vid in self._variants_of.pop(product_id):
                del self._variants[vid]
            for iid in self._images_of.pop(product_id):
                del self._images[iid]
            del self._products[product_id]
            del self._options[product_id]
            self.listings.forget_product(product_id)
            self.emit("store/product/deleted", {"type": "product", "id": product_id})

    def product_ids(self) -> list[int]:
        with self.lock:
            return sorted(self._products)

    def has_product(self, product_id: int) -> bool:
        with self.lock:
            return product_id in self._products

    def product_view(self, product_id: int, include: Iterable[str] = ()) -> dict[str, Any]:
        with self.lock:
            product = {"id": product_id} | copy.deepcopy(self._product(product_id))
            product["date_created"] = iso_seconds(product["date_created"])
            product["date_modified"] = iso_seconds(product["date_modified"])
            price, sale = product["price"], product["sale_price"]
            product["calculated_price"] = sale if 0 < sale < price else price
            product.update(reviews_rating_sum=0, reviews_count=0)
            include = set(include)
            if "variants" in include:
                product["variants"] = self.list_variants(product_id)
            if "images" in include:
                product["images"] = self.list_images(product_id)
            if "custom_fields" in include:
                product["custom_fields"] = []
            return product

    def query_products(self, query: ProductQuery) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, the requested page of product views)."""
        with self.lock:
            matching = self._matching(query)
            sort_key = "date_modified" if query.sort == "date_last_imported" else query.sort
            matching.sort(key=lambda p: p["id"])  # ties stay in id order, ascending, either direction
            matching.sort(key=lambda p: _sortable(p[sort_key]), reverse=query.descending)
            page = matching[query.offset : query.offset + query.limit]
            return len(matching), [self.product_view(p["id"], query.include) for p in page]

    def delete_products(self, query: ProductQuery) -> int:
        with self.lock:
            doomed = [p["id"] for p in self._matching(query)]
            for pid in doomed:
                self.delete_product(pid)
            return len(doomed)

    def _matching(self, q: ProductQuery) -> list[dict[str, Any]]:
        sku_owners = None
        if q.skus is not None:  # the live API's `sku` filter also finds a product by a variant's SKU
            sku_owners = {v["product_id"] for v in self._variants.values() if v["sku"] in q.skus}
        return [p for p in self._products.values() if self._matches(p, q, sku_owners)]

    def _matches(self, product: Mapping[str, Any], q: ProductQuery, sku_owners: set[int] | None) -> bool:
        pid = product["id"]
        modified = int(product["date_modified"])
        checks = (
            q.ids is None or pid in q.ids,
            pid not in q.not_ids,
            q.id_min is None or pid >= q.id_min,
            q.id_max is None or pid <= q.id_max,
            sku_owners is None or pid in sku_owners,
            all(product.get(k) == v for k, v in q.equals.items()),
            q.categories is None or bool(q.categories & set(product["categories"])),
            q.modified_min is None or modified >= q.modified_min,
            q.modified_max is None or modified <= q.modified_max,
        )
        if not all(checks):
            return False
        if q.keyword:
            text = " ".join([product["name"], product["description"], *self._skus_of(pid)]).lower()
            return q.keyword.lower() in text
        return True

    def _skus_of(self, product_id: int) -> set[str]:
        return {self._variants[v]["sku"] for v in self._variants_of[product_id]} - {""}

    def _check_product_conflicts(self, body: Mapping[str, Any], product_id: int | None) -> None:
        if "name" in body:
            name = str(body["name"]).casefold()
            for other in self._products.values():
                if other["id"] != product_id and other["name"].casefold() == name:
                    raise conflict(f"The product name '{body['name']}' is a duplicate", "name")
        if body.get("sku"):
            base = None if product_id is None else self._products[product_id]["base_variant_id"]
            self._check_sku_conflicts([body["sku"]], exclude_variant=base)
        for cid in body.get("categories", []):
            if not self.taxonomy.has_category(cid):
                raise conflict(f"Category {cid} does not exist", "categories")
        brand_id = body.get("brand_id", 0)
        if brand_id and not self.taxonomy.has_brand(brand_id):
            raise conflict(f"Brand {brand_id} does not exist", "brand_id")

    def _check_sku_conflicts(self, skus: list[str], *, exclude_variant: int | None = None) -> None:
        wanted = [s for s in skus if s]
        seen: set[str] = set()
        for sku in wanted:
            if sku in seen:
                raise conflict(f"Sku '{sku}' is not unique", "sku")
            seen.add(sku)
        for variant in self._variants.values():
            if variant["id"] != exclude_variant and variant["sku"] in seen:
                raise conflict(f"Sku '{variant['sku']}' is not unique", "sku")

    def _product(self, product_id: int) -> dict[str, Any]:
        product = self._products.get(product_id)
        if product is None:
            raise not_found("product", product_id)
        return product

    def _touch(self, product_id: int) -> None:
        self._products[product_id]["date_modified"] = self._now()

    def _now(self) -> int:
        """BigCommerce keeps times to the second."""
        return int(self.clock())

    def _detach(self, kind: str, ident: int) -> None:
        """A category or brand was deleted: products no longer reference it."""
        for product in self._products.values():
            if kind == "category" and ident in product["categories"]:
                product["categories"] = [c for c in product["categories"] if c != ident]
                self._touch(product["id"])
            elif kind == "brand" and product["brand_id"] == ident:
                product["brand_id"] = 0
                self._touch(product["id"])

    # --- variants ---------------------------------------------------------------------------------------

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
            self.emit("store/sku/created", _sku_event(variant))
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
                self.emit("store/sku/updated", _sku_event(variant))
            return self._variant_view(variant)

    def update_variants(self, items: Any) -> list[dict[str, Any]]:
        """`PUT /catalog/variants`: all or nothing; errors answer 422 with `batch_errors`."""
        with self.lock:
            items = require_list(items)
            failures: list[ApiError] = []
            for index, item in enumerate(items):
                if not isinstance(item, Mapping) or not isinstance(item.get("id"), int):
                    failures.append(invalid({f"{index}.id": "error.path.missing"}))
                elif item["id"] not in self._variants:
                    failures.append(not_found("variant", item["id"]))
                elif errors := self._variant_errors(item, f"{index}.", needs_options=False):
                    failures.append(invalid(errors))
            if failures:
                raise BatchError(failures)
            return [self.update_variant(None, item["id"], item) for item in items]

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        with self.lock:
            variant = self._variant(product_id, variant_id)
            if variant_id == self._products[product_id]["base_variant_id"]:
                raise invalid({"id": "The base variant of a product cannot be deleted"})
            del self._variants[variant_id]
            self._variants_of[product_id].discard(variant_id)
            self._touch(product_id)
            self.emit("store/sku/deleted", _sku_event(variant))

    def variant_product(self, variant_id: int) -> int | None:
        with self.lock:
            variant = self._variants.get(variant_id)
            return None if variant is None else int(variant["product_id"])

    def _variant_ids(self, product_id: int) -> list[int] | None:
        if product_id not in self._products:
            return None
        return sorted(self._variants_of[product_id])

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
            combo = _combo(option_values)
            for other in (self._variants[v] for v in self._variants_of[product_id]):
                if other["option_values"] and _combo(other["option_values"]) == combo:
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

    # --- variant options (`/catalog/products/{id}/options` and their values) ---------------------------

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

    def _variant_view(self, variant: Mapping[str, Any]) -> dict[str, Any]:
        product = self._products[variant["product_id"]]
        view = copy.deepcopy({k: v for k, v in variant.items() if k != "image_url"})
        view["calculated_price"] = product["price"] if variant["price"] is None else variant["price"]
        view["calculated_weight"] = product["weight"] if variant["weight"] is None else variant["weight"]
        return view

    # --- images -----------------------------------------------------------------------------------------

    def list_images(self, product_id: int) -> list[dict[str, Any]]:
        with self.lock:
            self._product(product_id)
            images = [self._images[i] for i in self._images_of[product_id]]
            return [self._image_view(i) for i in sorted(images, key=lambda i: (i["sort_order"], i["id"]))]

    def get_image(self, product_id: int, image_id: int) -> dict[str, Any]:
        with self.lock:
            return self._image_view(self._image(product_id, image_id))

    def create_image(self, product_id: int, body: Any) -> dict[str, Any]:
        with self.lock:
            self._product(product_id)
            body = require_object(body)
            errors = _image_errors(body, "", creating=True)
            if errors:
                raise invalid(errors)
            image = self._new_image(product_id, body)
            self._touch(product_id)
            for _ in range(self.image_update_events):
                self.emit("store/product/updated", {"type": "product", "id": product_id})
            return self._image_view(image)

    def update_image(self, product_id: int, image_id: int, body: Any) -> dict[str, Any]:
        """Changes the product (date_modified) but, like the live API, fires no webhook."""
        with self.lock:
            image = self._image(product_id, image_id)
            body = require_object(body)
            errors = _image_errors(body, "", creating=False)
            if errors:
                raise invalid(errors)
            changes = {k: v for k, v in pick(body, IMAGE_FIELDS).items() if image.get(k) != v}
            if changes:
                image.update(changes, date_modified=self._now())
                if changes.get("is_thumbnail"):
                    self._only_thumbnail(image)
                self._touch(product_id)
            return self._image_view(image)

    def delete_image(self, product_id: int, image_id: int) -> None:
        with self.lock:
            self._image(product_id, image_id)
            del self._images[image_id]
            self._images_of[product_id].discard(image_id)
            self._touch(product_id)

    def _image(self, product_id: int, image_id: int) -> dict[str, Any]:
        self._product(product_id)
        image = self._images.get(image_id)
        if image is None or image["product_id"] != product_id:
            raise not_found("image", image_id)
        return image

    def _new_image(self, product_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        iid = next(self._ids["image"])
        image = defaults(IMAGE_FIELDS) | pick(body, IMAGE_FIELDS)
        name = image["image_url"].rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "image.jpg"
        has_thumbnail = any(self._images[i]["is_thumbnail"] for i in self._images_of[product_id])
        image.update(
            id=iid,
            product_id=product_id,
            image_file=f"{name[0]}/{iid % 1000:03d}/{name}",
            date_modified=self._now(),
        )
        image["is_thumbnail"] = image["is_thumbnail"] or not has_thumbnail
        self._images[iid] = image
        self._images_of[product_id].add(iid)
        if image["is_thumbnail"]:
            self._only_thumbnail(image)
        return image

    def _only_thumbnail(self, image: Mapping[str, Any]) -> None:
        for other in self._images_of[image["product_id"]] - {image["id"]}:
            self._images[other]["is_thumbnail"] = False

    def _image_view(self, image: Mapping[str, Any]) -> dict[str, Any]:
        view = dict(image)
        base = f"https://cdn11.bigcommerce.com/s-{self.store_hash}/images/stencil"
        path = f"products/{image['product_id']}/{image['id']}/{image['image_file'].rsplit('/', 1)[-1]}"
        view.update(
            url_zoom=f"{base}/1280x1280/{path}",
            url_standard=f"{base}/500x659/{path}",
            url_thumbnail=f"{base}/100x100/{path}",
            url_tiny=f"{base}/44x44/{path}",
            date_modified=iso_seconds(image["date_modified"]),
        )
        return view


class BatchError(ApiError):
    """422 of a batch endpoint: one error object per failed item, under `batch_errors`."""

    def __init__(self, failures: list[ApiError]) -> None:
        super().__init__(422, "Batch contains invalid items")
        self.failures = failures

    def body(self) -> dict[str, Any]:
        return {"batch_errors": [f.body() for f in self.failures]}


def _image_errors(body: Any, prefix: str, *, creating: bool) -> dict[str, str]:
    if not isinstance(body, Mapping):
        return {prefix.rstrip(".") or "body": "error.expected.jsobject"}
    errors = check_fields(body, IMAGE_FIELDS, prefix=prefix)
    url = body.get("image_url")
    if creating and not url:
        errors[f"{prefix}image_url"] = "error.path.missing"
    elif url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        errors[f"{prefix}image_url"] = "error.url.invalid"
    return errors


def _sku_event(variant: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "sku",
        "id": variant["sku_id"] if variant["sku_id"] is not None else variant["id"],
        "sku": {"product_id": variant["product_id"], "variant_id": variant["id"]},
    }


def _has_id(item: Any) -> bool:
    return isinstance(item, Mapping) and "id" in item


def _combo(option_values: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((ov["option_display_name"], ov["label"]) for ov in option_values))


def _sortable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value
