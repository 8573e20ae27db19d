"""BigCommerce store -> BigCommerce store (seed 003): sync one product, category or brand.

On top of what every engine guarantees (entity_sync.py):
- dependencies first: categories (parent chain) and the brand are mapped to destination ids before the
  product that uses them, syncing them on the way when they are unknown;
- products are matched by SKU when unmapped (a duplicate or missing SKU is a recorded error);
- a product's parts (fields, variants, images) are written step by step and recorded as they land;
  `sync_many` writes several products' fields in one batch request;
- a product missing at the source becomes a soft delete at the destination (hidden, disabled), restored
  by the next sync that finds it again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from catalog_sync.connections import Connection
from catalog_sync.connectors.bigcommerce import (
    MAX_PRODUCT_BATCH,
    SOFT_DELETE_PAYLOAD,
    BigCommerceClient,
    brand_from_bigcommerce,
    category_from_bigcommerce,
    product_create_payload,
    product_fields_payload,
    product_from_bigcommerce,
)
from catalog_sync.connectors.http import RETRIABLE_STATUS, HttpStatusError
from catalog_sync.entity_sync import (
    ChangeRecorder,
    EntitySync,
    OutcomeAction,
    StateRepository,
    SyncOutcome,
    int_id,
    is_older,
)
from catalog_sync.errors import DuplicateSku, MissingSku, PermanentError, RetriableError, SyncError
from catalog_sync.models import Product, canonical_hash
from catalog_sync.product_parts import PartsWriter, parts_after_create
from catalog_sync.store.state import EntityState
from catalog_sync.sync_request import EntityType, SyncRequest


@dataclass
class _DeferredFields:
    """A product whose children are written and whose fields wait for sync_many's batch write."""

    current: EntityState
    action: OutcomeAction
    fields: dict[str, Any]
    fields_digest: str
    finish: dict[str, Any]  # the state to commit once the fields land
    written: list[str]


def _item_error(status: int, message: str) -> SyncError:
    """A product refused inside a batch: retriable when the status says so, else for good."""
    if status in RETRIABLE_STATUS:
        return RetriableError(f"batch product update: {message}")
    return PermanentError(f"batch product update refused: {message}")


class CatalogSync(EntitySync):
    """Brings single entities of one connection in sync, BigCommerce source to BigCommerce destination."""

    def __init__(
        self,
        connection: Connection,
        source: BigCommerceClient,
        destination: BigCommerceClient,
        state: StateRepository,
        *,
        owner: str,
        lease_s: float = 120.0,
        changes: ChangeRecorder | None = None,
    ) -> None:
        super().__init__(connection, state, owner=owner, lease_s=lease_s, changes=changes)
        self.source = source
        self.destination = destination
        self._written: list[str] = []
        self._deferred: list[_DeferredFields] | None = None  # set while sync_many runs
        self._syncers: Mapping[str, Callable[[int], SyncOutcome]] = {
            "product": self.sync_product,
            "category": self.sync_category,
            "brand": self.sync_brand,
        }

    def sync(self, request: SyncRequest) -> SyncOutcome:
        # The action in the request is only a hint: the source's current state decides (a product
        # "deleted" and re-created, or an "updated" that arrives after a delete, both end right).
        return self._syncers[request.entity_type](request.entity_id)

    # --- products -----------------------------------------------------------------------------------

    def sync_product(self, product_id: int) -> SyncOutcome:
        with self._leased("product", product_id) as current:
            data = self.source.get_product(product_id)
            if data is None:
                return self._soft_delete_product(current)
            product = product_from_bigcommerce(data)
            if not product.sku:
                raise MissingSku(f"product {product_id} has no SKU: it cannot be matched at the destination")
            if is_older(product.date_modified, current.source_modified):
                return self._finish(current, "stale")
            product = self._with_channel_availability(product)
            categories = [self._dest_id("category", c) for c in product.categories]
            brand = self._dest_id("brand", product.brand_id) if product.brand_id else 0
            digest = canonical_hash(
                {"product": product.model_dump(mode="json"), "categories": categories, "brand": brand}
            )
            modified = product.date_modified.isoformat()
            if current.dest_id and not current.deleted and current.content_hash == digest:
                return self._finish(current, "unchanged", source_modified=modified)

            fields = product_fields_payload(product, categories, brand)
            fields_digest = canonical_hash(fields)
            self._written = []
            dest_id = int_id(current.dest_id) or self._find_by_sku(product.sku)
            if dest_id is None:
                created = self._create_product(product, categories, brand)
                dest_id = int(created["id"])
                action: OutcomeAction = "created"
                self._written = ["fields", "variants", "images"]
                parts = parts_after_create(product, created, fields_digest)
                if created.get("adopted"):
                    parts = self._write_parts(current, product, dest_id, {}, fields, fields_digest)
            else:
                previous = copy.deepcopy(current.parts or {})
                parts = self._write_parts(current, product, dest_id, previous, fields, fields_digest)
                action = "restored" if current.deleted else "updated"
            finish = {
                "dest_id": dest_id,
                "content_hash": digest,
                "source_modified": modified,
                "deleted": False,
                "parts": parts,
            }
            if self._deferred is not None and parts.get("fields") != fields_digest:  # see sync_many
                self._deferred.append(
                    _DeferredFields(current, action, fields, fields_digest, finish, self._written)
                )
                self._written = []
                return SyncOutcome("product", product_id, "pending", dest_id)
            return self._finish(current, action, **finish)

    def _write_parts(
        self,
        current: EntityState,
        product: Product,
        dest_id: int,
        parts: dict[str, Any],
        fields: dict[str, Any],
        fields_digest: str,
    ) -> dict[str, Any]:
        """Fields, then variants, then images; on failure the progress so far is saved for the retry.
        Inside sync_many the fields wait for one batch write with other products' (after the children:
        the product exists already, so the order does not matter to the destination)."""
        writer = PartsWriter(self.destination, dest_id, parts, self._written)
        try:
            if parts.get("fields") != fields_digest and self._deferred is None:
                self.destination.update_product(dest_id, fields)
                parts["fields"] = fields_digest
                self._written.append("fields")
            writer.variants(product.variants)
            writer.images(product.images)
        except Exception:
            self._save_progress(current, dest_id, parts)
            raise
        return parts

    def _save_progress(self, current: EntityState, dest_id: int, parts: dict[str, Any]) -> None:
        progress = replace(current, dest_id=dest_id, parts=parts, last_outcome="partial")
        self.state.commit(progress, owner=self.owner)
        self._record(progress, "partial", progress.source_modified, self._written)
        self._written = []

    # --- several entities at once: product fields in batch writes ----------------------------------

    def sync_many(
        self, requests: Sequence[SyncRequest]
    ) -> dict[tuple[str, str, int], SyncOutcome | Exception]:
        """Sync several entities (one result per entity key). Products whose fields changed have them
        written together by batch `PUT /catalog/products` (≤ 10 per request) once their children are
        written; a 207 is judged per item, so one refused product fails alone."""
        results: dict[tuple[str, str, int], SyncOutcome | Exception] = {}
        self._deferred = []
        try:
            for request in requests:
                if request.entity_key in results:
                    continue
                try:
                    results[request.entity_key] = self.sync(request)
                except Exception as exc:  # the caller classifies it per record
                    results[request.entity_key] = exc
            deferred, self._deferred = self._deferred, None
            for start in range(0, len(deferred), MAX_PRODUCT_BATCH):
                for item, result in self._write_fields(deferred[start : start + MAX_PRODUCT_BATCH]):
                    key = (self.connection.name, "product", item.current.source_id)
                    results[key] = result
        finally:
            self._deferred = None
        return results

    def _write_fields(
        self, chunk: list[_DeferredFields]
    ) -> Iterator[tuple[_DeferredFields, SyncOutcome | Exception]]:
        """One request for the chunk (a single product keeps the plain PUT); commit each success,
        save each failure's progress (its children are written) so its retry writes the fields only."""
        ids = [int(item.finish["dest_id"]) for item in chunk]
        try:
            if len(chunk) == 1:
                self.destination.update_product(ids[0], chunk[0].fields)
                failed: dict[int, Exception] = {}
            else:
                batch = self.destination.update_products(
                    [{"id": dest_id, **item.fields} for dest_id, item in zip(ids, chunk, strict=True)]
                )
                failed = {
                    dest_id: _item_error(batch.statuses.get(dest_id, 0), message)
                    for dest_id, message in batch.failed.items()
                }
        except Exception as exc:  # the whole request failed: every product in it did
            failed = {dest_id: exc for dest_id in ids}
        for dest_id, item in zip(ids, chunk, strict=True):
            error = failed.get(dest_id)
            if error is not None:
                self._written = item.written
                self._save_progress(item.current, dest_id, item.finish["parts"])
                yield item, error
                continue
            item.finish["parts"]["fields"] = item.fields_digest
            self._written = [*item.written, "fields"]
            yield item, self._finish(item.current, item.action, **item.finish)

    def _create_product(self, product: Product, categories: list[int], brand: int) -> dict[str, Any]:
        """Create with inline variants and images (one request). A 409 means the SKU exists already
        (a create that raced another writer, or a retry after a lost response): adopt that product."""
        try:
            created = self.destination.create_product(product_create_payload(product, categories, brand))
        except DuplicateSku:
            existing = self._find_by_sku(product.sku)
            if existing is None:
                raise
            return {"id": existing, "adopted": True}
        if "variants" not in created or "images" not in created:
            created = self.destination.get_product(int(created["id"])) or created
        return created

    def _find_by_sku(self, sku: str) -> int | None:
        found = self.destination.find_product_by_sku(sku)
        return int(found["id"]) if found else None

    def _soft_delete_product(self, current: EntityState) -> SyncOutcome:
        dest_id = int_id(current.dest_id)
        if dest_id is None or current.deleted:
            return self._finish(current, "absent")
        self._written = sorted(SOFT_DELETE_PAYLOAD)
        try:
            self.destination.update_product(dest_id, SOFT_DELETE_PAYLOAD)
        except HttpStatusError as exc:
            if exc.status != 404:  # already gone at the destination: the tombstone is all that is left
                raise
        # The soft delete overwrote the fields: forget their hash, so a restore rewrites them even
        # when the product comes back unchanged (a transient 404, an undo).
        parts = {**(current.parts or {}), "fields": None}
        return self._finish(current, "deleted", deleted=True, content_hash="", parts=parts)

    def _with_channel_availability(self, product: Product) -> Product:
        """Seed 003: the destination's purchasability follows its channel listing on the source."""
        channel = self.connection.channel_on_source
        if channel is None:
            return product
        listing = self.source.channel_listing_state(channel, product.source_id)
        availability = "available" if listing == "active" else "disabled"
        return product.model_copy(update={"availability": availability})

    # --- categories and brands ----------------------------------------------------------------------

    def sync_category(self, category_id: int) -> SyncOutcome:
        with self._leased("category", category_id) as current:
            data = self.source.get_category(category_id)
            if data is None:
                return self._soft_delete(current, self.destination.update_category, {"is_visible": False})
            category = category_from_bigcommerce(data)
            parent = self._dest_id("category", category.parent_id) if category.parent_id else 0
            payload = {**category.model_dump(mode="json"), "parent_id": parent}
            existing = (
                self.destination.find_category(category.name, parent) if current.dest_id is None else None
            )
            return self._upsert_simple(
                current,
                payload,
                existing,
                create=self.destination.create_category,
                update=self.destination.update_category,
            )

    def sync_brand(self, brand_id: int) -> SyncOutcome:
        with self._leased("brand", brand_id) as current:
            data = self.source.get_brand(brand_id)
            if data is None:
                # BigCommerce brands have no visibility flag: keep the destination brand and a tombstone.
                return self._finish(current, "deleted" if current.dest_id else "absent", deleted=True)
            payload = brand_from_bigcommerce(data).model_dump(mode="json")
            existing = self.destination.find_brand(payload["name"]) if current.dest_id is None else None
            return self._upsert_simple(
                current,
                payload,
                existing,
                create=self.destination.create_brand,
                update=self.destination.update_brand,
            )

    def _upsert_simple(
        self,
        current: EntityState,
        payload: dict[str, Any],
        existing: dict[str, Any] | None,
        *,
        create: Callable[[dict[str, Any]], dict[str, Any]],
        update: Callable[[int, dict[str, Any]], dict[str, Any]],
    ) -> SyncOutcome:
        digest = canonical_hash(payload)
        if current.dest_id and not current.deleted and current.content_hash == digest:
            return self._finish(current, "unchanged")
        self._written = sorted(payload)
        dest_id = int_id(current.dest_id) or (int(existing["id"]) if existing else None)
        if dest_id is None:
            dest_id = int(create(payload)["id"])
            action: OutcomeAction = "created"
        else:
            update(dest_id, payload)
            action = "restored" if current.deleted else "updated"
        return self._finish(current, action, dest_id=dest_id, content_hash=digest, deleted=False)

    def _soft_delete(
        self,
        current: EntityState,
        update: Callable[[int, dict[str, Any]], dict[str, Any]],
        payload: dict[str, Any],
    ) -> SyncOutcome:
        dest_id = int_id(current.dest_id)
        if dest_id is None or current.deleted:
            return self._finish(current, "absent")
        self._written = sorted(payload)
        try:
            update(dest_id, payload)
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
        return self._finish(current, "deleted", deleted=True, content_hash="")

    def _dest_id(self, entity_type: EntityType, source_id: int) -> int:
        """The destination id of a dependency, syncing it first when it is not mapped yet."""
        known = self.state.get(self.connection.name, entity_type, source_id)
        known_id = int_id(known.dest_id) if known is not None and not known.deleted else None
        if known_id:
            return known_id
        written = self._written
        outcome = self._syncers[entity_type](source_id)
        self._written = written
        dest_id = int_id(outcome.dest_id)
        if dest_id is None or outcome.action in ("deleted", "absent"):
            raise PermanentError(f"{entity_type} {source_id} is referenced but does not exist at the source")
        return dest_id

    # --- state --------------------------------------------------------------------------------------

    def _finish(self, current: EntityState, action: OutcomeAction, **changes: Any) -> SyncOutcome:
        written, self._written = self._written, []
        return self._commit(current, action, written, **changes)
