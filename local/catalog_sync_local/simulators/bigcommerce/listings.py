"""Channel listings of the simulated store (channels.v3.yml): which products a channel lists, in what state.

Any channel id is accepted (channels themselves are not modelled). Listing changes fire no webhook, as in
the live API (seed 003: "there is no webhook to listen for channel listing events").
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    LISTING_STATES,
    ApiError,
    invalid,
    iso_seconds,
    require_list,
)

VariantsOf = Callable[[int], list[int] | None]  # product id -> its variant ids, None when no such product


class Listings:
    def __init__(self, *, lock: threading.RLock, clock: Callable[[], float], variants_of: VariantsOf) -> None:
        self.lock = lock
        self.clock = clock
        self.variants_of = variants_of
        self._listings: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(7001)

    def query(
        self, channel_id: int, *, product_ids: set[int] | None = None, after: int = 0, limit: int = 50
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, listings after the `after` listing id, at most `limit`)."""
        with self.lock:
            matching = [
                listing
                for lid, listing in sorted(self._listings.items())
                if listing["channel_id"] == channel_id
                and (product_ids is None or listing["product_id"] in product_ids)
            ]
            page = [listing for listing in matching if listing["listing_id"] > after][:limit]
            return len(matching), [self._view(listing) for listing in page]

    def get(self, channel_id: int, listing_id: int) -> dict[str, Any]:
        with self.lock:
            listing = self._listings.get(listing_id)
            if listing is None or listing["channel_id"] != channel_id:
                raise ApiError(404, f"Listing [{listing_id}] not found", {})
            return self._view(listing)

    def create(self, channel_id: int, items: Any) -> list[dict[str, Any]]:
        """`POST /channels/{id}/listings`: `product_id`, `state` and `variants` are required (spec)."""
        with self.lock:
            items = require_list(items)
            errors: dict[str, str] = {}
            for i, item in enumerate(items):
                errors |= self._item_errors(item, f"{i}.", ("product_id", "state", "variants"))
                if isinstance(item, Mapping) and self._find(channel_id, item.get("product_id")):
                    errors[f"{i}.product_id"] = "a listing for this product already exists on the channel"
            if errors:
                raise invalid(errors)
            return [self._view(self._insert(channel_id, item)) for item in items]

    def update(self, channel_id: int, items: Any) -> list[dict[str, Any]]:
        """`PUT /channels/{id}/listings`: items name `listing_id` and `state`; other fields optional."""
        with self.lock:
            items = require_list(items)
            errors: dict[str, str] = {}
            for i, item in enumerate(items):
                errors |= self._item_errors(item, f"{i}.", ("listing_id", "state"))
                lid = item.get("listing_id") if isinstance(item, Mapping) else None
                known = self._listings.get(lid) if isinstance(lid, int) else None
                if lid is not None and (known is None or known["channel_id"] != channel_id):
                    errors[f"{i}.listing_id"] = f"Listing [{lid}] not found"
            if errors:
                raise invalid(errors)
            return [self._view(self._apply(self._listings[item["listing_id"]], item)) for item in items]

    def set_state(self, channel_id: int, product_id: int, state: str) -> dict[str, Any]:
        """Upsert the product's listing on the channel, every variant in the same state (dashboard edit)."""
        with self.lock:
            item = {"product_id": product_id, "state": state}
            errors = self._item_errors(item, "", ("product_id", "state"))
            if errors:
                raise invalid(errors)
            variants = [
                {"product_id": product_id, "variant_id": v, "state": state} for v in self._variant_ids(item)
            ]
            listing = self._find(channel_id, product_id)
            if listing is None:
                listing = self._insert(channel_id, {**item, "variants": variants})
            else:
                self._apply(listing, {**item, "variants": variants})
            return self._view(listing)

    def forget_product(self, product_id: int) -> None:
        with self.lock:
            for lid in [
                lid for lid, listing in self._listings.items() if listing["product_id"] == product_id
            ]:
                del self._listings[lid]

    def _item_errors(self, item: Any, prefix: str, required: tuple[str, ...]) -> dict[str, str]:
        if not isinstance(item, Mapping):
            return {prefix.rstrip("."): "error.expected.jsobject"}
        errors = {f"{prefix}{name}": "error.path.missing" for name in required if name not in item}
        if "state" in item and item["state"] not in LISTING_STATES:
            errors[f"{prefix}state"] = "error.expected.validenumvalue"
        if "product_id" in item and self.variants_of(item["product_id"]) is None:
            errors[f"{prefix}product_id"] = f"product {item['product_id']} not found"
        for j, variant in enumerate(item.get("variants") or []):
            if not isinstance(variant, Mapping) or not {"product_id", "variant_id", "state"} <= set(variant):
                errors[f"{prefix}variants.{j}"] = "error.path.missing"
            elif variant["variant_id"] not in (self.variants_of(variant["product_id"]) or []):
                errors[f"{prefix}variants.{j}.variant_id"] = f"variant {variant['variant_id']} not found"
        return errors

    def _variant_ids(self, item: Mapping[str, Any]) -> list[int]:
        return self.variants_of(item["product_id"]) or []

    def _find(self, channel_id: int, product_id: Any) -> dict[str, Any] | None:
        for listing in self._listings.values():
            if listing["channel_id"] == channel_id and listing["product_id"] == product_id:
                return listing
        return None

    def _insert(self, channel_id: int, item: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        listing: dict[str, Any] = {
            "channel_id": channel_id,
            "listing_id": next(self._ids),
            "external_id": "",
            "product_id": item["product_id"],
            "name": "",
            "description": "",
            "state": item["state"],
            "date_created": now,
            "date_modified": now,
            "variants": [],
        }
        self._listings[listing["listing_id"]] = listing
        return self._apply(listing, item, force=True)

    def _apply(
        self, listing: dict[str, Any], item: Mapping[str, Any], *, force: bool = False
    ) -> dict[str, Any]:
        changed = force
        for key in ("external_id", "name", "description", "state"):
            if key in item and listing[key] != item[key]:
                listing[key], changed = item[key], True
        if "variants" in item:
            now = self.clock()
            variants = [
                {
                    "channel_id": listing["channel_id"],
                    "product_id": v["product_id"],
                    "variant_id": v["variant_id"],
                    "external_id": v.get("external_id", ""),
                    "name": v.get("name", ""),
                    "description": v.get("description", ""),
                    "state": v["state"],
                    "date_created": now,
                    "date_modified": now,
                }
                for v in item["variants"]
            ]
            if [_sans_dates(v) for v in variants] != [_sans_dates(v) for v in listing["variants"]]:
                listing["variants"], changed = variants, True
        if changed:
            listing["date_modified"] = self.clock()
        return listing

    def _view(self, listing: Mapping[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(dict(listing))
        for record in (view, *view["variants"]):
            record["date_created"] = iso_seconds(record["date_created"])
            record["date_modified"] = iso_seconds(record["date_modified"])
        return view


def _sans_dates(variant: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in variant.items() if not k.startswith("date_")}
