"""Images of a simulated BigCommerce product: CDN-style URLs, one thumbnail per product. Creating one fires
`store/product/updated` `image_update_events` times (twice live, as seed 003 observed); updating or
deleting one moves the product's `date_modified` but, like the live API, fires nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    IMAGE_FIELDS,
    check_fields,
    defaults,
    invalid,
    iso_seconds,
    not_found,
    pick,
    require_object,
)
from catalog_sync_local.simulators.bigcommerce.records import CatalogRecords


class ImageCatalog(CatalogRecords):
    """Images, per product."""

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
            errors = image_errors(body, "", creating=True)
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
            errors = image_errors(body, "", creating=False)
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


def image_errors(body: Any, prefix: str, *, creating: bool) -> dict[str, str]:
    if not isinstance(body, Mapping):
        return {prefix.rstrip(".") or "body": "error.expected.jsobject"}
    errors = check_fields(body, IMAGE_FIELDS, prefix=prefix)
    url = body.get("image_url")
    if creating and not url:
        errors[f"{prefix}image_url"] = "error.path.missing"
    elif url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        errors[f"{prefix}image_url"] = "error.url.invalid"
    return errors
