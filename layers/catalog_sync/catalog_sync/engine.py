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
from typing import Any, Protocol

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
    DEFAULT_LEASE_S,
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


class OwnedStateRepository(StateRepository, Protocol):
    """State plus who owns each destination product (store/state.py explains why)."""

    def destination_owner(self, connection: str, entity_type: str, dest_id: int | str) -> int | None: ...

    def claim_destination(
        self, connection: str, entity_type: str, dest_id: int | str, source_id: int
    ) -> None: ...

    def lease_destination(
        self, connection: str, entity_type: str, dest_id: int | str, *, owner: str, lease_s: float
    ) -> int | None: ...

    def release_destination(
        self, connection: str, entity_type: str, dest_id: int | str, *, owner: str
    ) -> None: ...


@dataclass
class _DeferredFields:
    """A product whose children are written and whose fields wait for sync_many's batch write."""

    current: EntityState
    action: OutcomeAction
    fields: dict[str, Any]
    fields_digest: str
    finish: dict[str, Any]  # the state to commit once the fields land
    written: list[str]


def _unmapped(state: EntityState) -> EntityState:
    """The state as if the entity had never been mapped (its destination counterpart vanished)."""
    return replace(state, dest_id=None, parts=None, content_hash=None, deleted=False, merge={})


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
        state: OwnedStateRepository,
        *,
        owner: str,
        lease_s: float = DEFAULT_LEASE_S,
        changes: ChangeRecorder | None = None,
        merged_fields: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(connection, state, owner=owner, lease_s=lease_s, changes=changes)
        self.state: OwnedStateRepository = state
        # Two-way connections: fields the merge (two_way_sync.py) writes at both sides. This engine
        # leaves them out of its change hash and of its updates, and writes them only to create.
        self.merged_fields = merged_fields
        # One-way, one lease reads and writes everything; a two-way connection's merge does the rest.
        self.covers_earlier_requests = not merged_fields
        self.source = source
        self.destination: BigCommerceClient = self.fenced(destination)
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

    def sync_product(
        self,
        product_id: int,
        *,
        carry: frozenset[str] = frozenset(),
        merge_state: dict[str, Any] | None = None,
    ) -> SyncOutcome:
        """Sync one product. Two-way (two_way_sync.py): `carry` names merged fields to write with this
        engine's own fields in one update (the source's values the merge decided the destination needs),
        and `merge_state` is committed with them once they land."""
        with self._leased("product", product_id) as current:
            return self._sync_product(current, carry=carry, merge_state=merge_state)

    def _sync_product(
        self,
        current: EntityState,
        *,
        remap_if_gone: bool = True,
        carry: frozenset[str] = frozenset(),
        merge_state: dict[str, Any] | None = None,
    ) -> SyncOutcome:
        product_id = current.source_id
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
        own = product.model_dump(mode="json", exclude=set(self.merged_fields))
        digest = canonical_hash({"product": own, "categories": categories, "brand": brand})
        modified = product.date_modified.isoformat()
        if current.dest_id and not current.deleted and current.content_hash == digest and not carry:
            return self._finish(current, "unchanged", source_modified=modified)

        fields = product_fields_payload(product, categories, brand)
        if current.dest_id and not current.deleted:
            fields = {k: v for k, v in fields.items() if k not in self.merged_fields - carry}
        if carry:  # the destination's own edits may have moved it since our last write: write, whatever
            current = replace(current, parts={**(current.parts or {}), "fields": None})
        fields_digest = canonical_hash(fields)
        self._written = []
        try:
            dest_id, action, parts = self._apply_product(current, product, categories, brand, fields)
        except HttpStatusError as exc:
            if exc.status != 404 or not remap_if_gone or int_id(current.dest_id) is None:
                raise
            # The mapped product (or a mapped child) is gone at the destination: someone deleted it.
            # Forget the mapping and resolve again by SKU: adopt what is left, or create it anew.
            return self._sync_product(_unmapped(current), remap_if_gone=False)
        if carry and merge_state is not None and "fields" in self._written:
            finish_merge: dict[str, Any] = {"merge": merge_state}
        else:
            finish_merge = {}
        finish = {
            **finish_merge,
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

    def _apply_product(
        self,
        current: EntityState,
        product: Product,
        categories: list[int],
        brand: int,
        fields: dict[str, Any],
    ) -> tuple[int, OutcomeAction, dict[str, Any]]:
        """Create, adopt (by SKU) or update the destination product: its id, the action, its parts."""
        fields_digest = canonical_hash(fields)
        mapped = int_id(current.dest_id)
        dest_id = mapped or self._find_by_sku(product.sku)
        if dest_id is None:
            # Seed 002: a new product is not shown until every part has landed. One to be shown is
            # created as a tombstone (hidden, disabled) with its variants and images; the fields write
            # (here, or sync_many's batch) reveals it. A create whose answer was lost, its source
            # product deleted before any sync mapped it, is thus a tombstone too (found by make chaos).
            # One hidden at the source is created as it is, in one request.
            hidden = {**fields, **SOFT_DELETE_PAYLOAD}
            hide = product.is_visible
            created = self._create_product(product, categories, brand, hidden=hide)
            dest_id = int(created["id"])
            self._claim(dest_id, current, new=not created.get("adopted"))
            self._written = ["fields", "variants", "images"]
            parts = parts_after_create(product, created, canonical_hash(hidden if hide else fields))
            # Mapped at once: should the commit never come (the lease lost after the writes landed),
            # the retry, or the source product's delete, still knows the product at B (make chaos).
            mapped_now = {} if created.get("adopted") else parts
            self.state.checkpoint(replace(current, dest_id=dest_id, parts=mapped_now), owner=self.owner)
            if created.get("adopted"):
                parts = self._write_parts(current, product, dest_id, {}, fields, fields_digest)
            elif self._deferred is None and parts["fields"] != fields_digest:
                self._reveal(current, dest_id, parts, fields, fields_digest)
            return dest_id, "created", parts
        if mapped is None or current.deleted:
            self._claim(dest_id, current)  # adopted by SKU, or restored: this id owns it from now on
        previous = copy.deepcopy(current.parts or {}) if mapped else {}
        parts = self._write_parts(current, product, dest_id, previous, fields, fields_digest)
        return dest_id, "restored" if current.deleted else "updated", parts

    def _reveal(
        self, current: EntityState, dest_id: int, parts: dict[str, Any], fields: dict[str, Any], digest: str
    ) -> None:
        """Write a new product's fields, showing it. When that fails for good the product stays hidden
        and the audit trail says `compensated`; otherwise the retry writes the fields and shows it."""
        try:
            self.destination.update_product(dest_id, fields)
        except Exception as exc:
            self._save_progress(current, dest_id, parts, compensated=isinstance(exc, PermanentError))
            raise
        parts["fields"] = digest

    def _claim(self, dest_id: int, current: EntityState, *, new: bool = False) -> None:
        """Become the owner of a destination product this id created, adopted or restored. Taken from
        another source id (re-created with the same SKU), only while that id is not being synced: a sync
        of it in flight read the source before the re-create, and its writes would land after ours, an
        older version over a newer one (found by make chaos). LeaseHeld meanwhile: this sync comes back.
        A product the destination has just made (`new`) had no owner to ask about."""
        name = self.connection.name
        previous = None if new else self.state.destination_owner(name, "product", dest_id)
        if previous in (None, current.source_id) or ("product", previous) in self._held:
            self.state.claim_destination(name, "product", dest_id, current.source_id)
            return
        self.state.acquire(name, "product", previous, owner=self.owner, lease_s=self.lease_s)
        try:
            self.state.claim_destination(name, "product", dest_id, current.source_id)
        finally:
            self.state.release(name, "product", previous, owner=self.owner)

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
        except HttpStatusError as exc:
            if exc.status != 404:  # a 404 is resolved in place by _sync_product: nothing to save
                self._save_progress(current, dest_id, parts)
            raise
        except Exception:
            self._save_progress(current, dest_id, parts)
            raise
        return parts

    def _save_progress(
        self, current: EntityState, dest_id: int, parts: dict[str, Any], *, compensated: bool = False
    ) -> None:
        """Record how far a product's write got. `compensated`: a new product whose fields were refused
        for good is left hidden, and marked so in its state and the audit trail."""
        outcome = "compensated" if compensated else "partial"
        progress = replace(current, dest_id=dest_id, parts=parts, last_outcome=outcome)
        self._commit_state(progress)
        self._record(progress, outcome, progress.source_modified, self._written)
        self._written = []

    # --- several entities at once: product fields in batch writes ----------------------------------

    def sync_many(
        self, requests: Sequence[SyncRequest]
    ) -> dict[tuple[str, str, int | str], SyncOutcome | Exception]:
        """Sync several entities (one result per entity key). Products whose fields changed have them
        written together by batch `PUT /catalog/products` (≤ 10 per request) once their children are
        written; a 207 is judged per item, so one refused product fails alone."""
        results: dict[tuple[str, str, int | str], SyncOutcome | Exception] = {}
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
        gone: set[int] = set()  # deleted at the destination behind our back
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
                gone = {dest_id for dest_id, status in batch.statuses.items() if status == 404}
                for dest_id in ids:  # a 207 that names an item nowhere: it is not known to have landed
                    if dest_id not in batch.updated and dest_id not in failed:
                        failed[dest_id] = RetriableError(f"batch update did not report product {dest_id}")
        except Exception as exc:  # the whole request failed: every product in it did
            failed = {dest_id: exc for dest_id in ids}
            if isinstance(exc, HttpStatusError) and exc.status == 404:
                gone = set(ids)
        for dest_id, item in zip(ids, chunk, strict=True):
            error = failed.get(dest_id)
            if dest_id in gone:
                yield item, self._resync_unmapped(item.current)
            elif error is not None:
                self._written = item.written
                refused_new = item.action == "created" and isinstance(error, PermanentError)
                self._save_progress(item.current, dest_id, item.finish["parts"], compensated=refused_new)
                yield item, error
            else:
                item.finish["parts"]["fields"] = item.fields_digest
                self._written = [*item.written, "fields"]
                yield item, self._finish(item.current, item.action, **item.finish)

    def _resync_unmapped(self, current: EntityState) -> SyncOutcome | Exception:
        """A deferred product found deleted at the destination: sync it again (still leased) as if it had
        never been mapped, so it is adopted by SKU or created anew."""
        try:
            return self._sync_product(_unmapped(current), remap_if_gone=False)
        except Exception as exc:  # reported per record, like every other failure of the batch
            self._held.pop(("product", current.source_id), None)
            self.state.release(self.connection.name, "product", current.source_id, owner=self.owner)
            return exc

    def _create_product(
        self, product: Product, categories: list[int], brand: int, *, hidden: bool
    ) -> dict[str, Any]:
        """Create with inline variants and images (one request), `hidden` until revealed. A 409 means
        the SKU exists already (a create that raced another writer, or a retry after a lost response):
        adopt that product."""
        payload = product_create_payload(product, categories, brand)
        if hidden:
            payload.update(SOFT_DELETE_PAYLOAD)
        try:
            created = self.destination.create_product(payload)
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

    def _held_by_another_id(self, owner: int, dest_id: int) -> bool:
        """Whether the source id that claimed this destination product still holds it: its state maps it,
        or the source still has that id. A claim left by a sync of an id deleted since, which failed
        before mapping it, holds nothing (found by make chaos): the last live id's delete hides it."""
        held = self.state.get(self.connection.name, "product", owner)
        if held is not None and int_id(held.dest_id) == dest_id and not held.deleted:
            return True
        return self.source.get_product(owner) is not None

    def _soft_delete_product(self, current: EntityState) -> SyncOutcome:
        dest_id = int_id(current.dest_id)
        if dest_id is None or current.deleted:
            return self._finish(current, "absent")
        name = self.connection.name
        owner = self.state.lease_destination(name, "product", dest_id, owner=self.owner, lease_s=self.lease_s)
        try:
            if owner not in (None, current.source_id) and self._held_by_another_id(owner, dest_id):
                # A live id re-created with the same SKU adopted this product: it is not ours to hide.
                return self._finish(current, "absent", deleted=True, content_hash="")
            self._written = sorted(SOFT_DELETE_PAYLOAD)
            try:
                self.destination.update_product(dest_id, SOFT_DELETE_PAYLOAD)
            except HttpStatusError as exc:
                if exc.status != 404:  # already gone at the destination: the tombstone is all that is left
                    raise
        finally:
            self.state.release_destination(name, "product", dest_id, owner=self.owner)
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
