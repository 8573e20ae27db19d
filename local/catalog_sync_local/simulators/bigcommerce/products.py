"""Products of a simulated BigCommerce catalog: create (with inline variants and images), update (a body may
carry variants and images too: with an id an update, without one a create), delete, and the product view
the API answers (`include=variants,images,custom_fields`). Names and SKUs are unique; categories and brands
must exist.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    PRODUCT_FIELDS,
    PRODUCT_REQUIRED,
    check_fields,
    conflict,
    defaults,
    invalid,
    iso_seconds,
    pick,
    require_list,
    require_object,
    slug,
)
from catalog_sync_local.simulators.bigcommerce.images import ImageCatalog, image_errors
from catalog_sync_local.simulators.bigcommerce.variants import VariantCatalog, option_combo, sku_event


class ProductCatalog(VariantCatalog, ImageCatalog):
    """Products, one at a time, with the variants and images a product body may carry."""

    def create_product(self, body: Any, include: Iterable[str] = ("variants", "images")) -> dict[str, Any]:
        with self.lock:
            body = require_object(body)
            errors = check_fields(body, PRODUCT_FIELDS, required=PRODUCT_REQUIRED)
            variants = require_list(body.get("variants", []), "variants")
            images = require_list(body.get("images", []), "images")
            for i, v in enumerate(variants):
                errors |= self._variant_errors(v, f"variants.{i}.", needs_options=True)
            for i, im in enumerate(images):
                errors |= image_errors(im, f"images.{i}.", creating=True)
            if errors:
                raise invalid(errors)
            self._check_product_conflicts(body, None)
            self._check_sku_conflicts([body.get("sku", ""), *(v.get("sku", "") for v in variants)])
            combos = [option_combo(v["option_values"]) for v in variants]
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
                self.emit("store/sku/created", sku_event(self._new_variant(pid, v, base=False)))
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
                errors |= image_errors(im, f"images.{i}.", creating=not _has_id(im))
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


def _has_id(item: Any) -> bool:
    return isinstance(item, Mapping) and "id" in item
