"""Write a product's parts (fields, variants, images) step by step, recording each step as it lands.

`parts` maps what exists at the destination: {"fields": hash, "variants": {sku: [dest_id, hash]},
"images": {source_image_id: [dest_id, hash]}}. Each write updates it at once, so when a later step fails
the engine saves the map and the retry resumes from there: no step is repeated, nothing is created twice.
An unchanged part writes nothing — editing one variant writes only that variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.models import Image, Product, Variant, canonical_hash

# Inventory travels with the variant (inventory_level) and with the product (fields payload).
VARIANT_FIELDS = ("price", "sale_price", "weight", "inventory_level", "purchasing_disabled")


def variant_payload(variant: Variant) -> dict[str, Any]:
    return {
        k: v for k, v in variant.model_dump(mode="json", include=set(VARIANT_FIELDS)).items() if v is not None
    }


def image_payload(image: Image) -> dict[str, Any]:
    return image.model_dump(mode="json")


def parts_after_create(product: Product, created: dict[str, Any], fields_digest: str) -> dict[str, Any]:
    """Map the children a create made inline (variants by SKU, images in sort order)."""
    dest_variants = {v["sku"]: v["id"] for v in created.get("variants") or [] if v.get("option_values")}
    dest_images = sorted(created.get("images") or [], key=lambda i: (i.get("sort_order") or 0, i["id"]))
    return {
        "fields": fields_digest,
        "variants": {
            v.sku: [dest_variants[v.sku], canonical_hash(variant_payload(v))]
            for v in product.variants
            if v.sku in dest_variants
        },
        "images": {
            str(img.source_id): [dest["id"], canonical_hash(image_payload(img))]
            for img, dest in zip(product.images, dest_images, strict=False)
        },
    }


@dataclass
class PartsWriter:
    destination: BigCommerceClient
    product_id: int  # at the destination
    parts: dict[str, Any]  # mutated as each write succeeds
    written: list[str] = field(default_factory=list)  # parts written, for the audit trail

    def variants(self, desired: tuple[Variant, ...]) -> None:
        """Create new variants (their option values first), update changed ones (one batch request
        when several changed), delete those gone. A variant found at the destination by SKU is adopted,
        so a retry after a lost create response never creates it twice."""
        known: dict[str, list[Any]] = self.parts.setdefault("variants", {})
        wanted = {v.sku: v for v in desired}
        if any(sku not in known for sku in wanted):
            at_dest = {v["sku"]: v["id"] for v in self.destination.list_variants(self.product_id)}
            for sku, variant in wanted.items():
                if sku in known:
                    continue
                if sku in at_dest:
                    known[sku] = [at_dest[sku], None]
                    continue
                option_values = self.destination.ensure_option_values(
                    self.product_id, [(o.option_display_name, o.label) for o in variant.option_values]
                )
                created = self.destination.create_variant(
                    self.product_id, {"sku": sku, **variant_payload(variant), "option_values": option_values}
                )
                known[sku] = [created["id"], canonical_hash(variant_payload(variant))]
                self.written.append(f"variants.{sku}")
        changed = []
        for sku, variant in wanted.items():
            digest = canonical_hash(variant_payload(variant))
            if known[sku][1] != digest:
                changed.append((sku, digest, {"id": known[sku][0], **variant_payload(variant)}))
        if len(changed) == 1:  # the single-variant PUT names the variant in its path, not its body
            sku, digest, payload = changed[0]
            fields = {k: v for k, v in payload.items() if k != "id"}
            self.destination.update_variant(self.product_id, payload["id"], fields)
        elif changed:
            self.destination.update_variants([payload for _, _, payload in changed])
        for sku, digest, payload in changed:
            known[sku] = [payload["id"], digest]
            self.written.append(f"variants.{sku}")
        for sku in [s for s in known if s not in wanted]:
            self.destination.delete_variant(self.product_id, known[sku][0])
            del known[sku]
            self.written.append(f"variants.{sku}")

    def images(self, desired: tuple[Image, ...]) -> None:
        first_time = "images" not in self.parts
        known: dict[str, list[Any]] = self.parts.setdefault("images", {})
        wanted = {str(i.source_id): i for i in desired}
        unmapped = [k for k in wanted if k not in known]
        if unmapped or first_time:
            self._adopt_existing_images(wanted, known, delete_strays=first_time)
        for key, image in wanted.items():
            digest = canonical_hash(image_payload(image))
            if key not in known:
                created = self.destination.create_image(self.product_id, image_payload(image))
                known[key] = [created["id"], digest]
                self.written.append(f"images.{key}")
            elif known[key][1] != digest:
                self.destination.update_image(self.product_id, known[key][0], image_payload(image))
                known[key] = [known[key][0], digest]
                self.written.append(f"images.{key}")
        for key in [k for k in known if k not in wanted]:
            self.destination.delete_image(self.product_id, known[key][0])
            del known[key]
            self.written.append(f"images.{key}")

    def _adopt_existing_images(
        self, wanted: dict[str, Image], known: dict[str, list[Any]], *, delete_strays: bool
    ) -> None:
        """Adopt destination images with the same URL (a create whose response was lost, or a product
        matched by SKU); on the first sync of a product, remove images that match nothing."""
        mapped = {entry[0] for entry in known.values()}
        free = [i for i in self.destination.list_images(self.product_id) if i["id"] not in mapped]
        for key, image in wanted.items():
            if key in known:
                continue
            match = next((i for i in free if i.get("image_url") == image.image_url), None)
            if match is not None:
                known[key] = [match["id"], None]
                free.remove(match)
        if delete_strays:
            for stray in free:
                self.destination.delete_image(self.product_id, stray["id"])
