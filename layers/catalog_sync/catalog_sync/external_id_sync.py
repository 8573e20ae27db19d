"""Flat products by external id (seed 000: Pixlpay -> an external system; Medusa per seed 002).

On top of what every engine guarantees (entity_sync.py): products are named `pixlpay_<id>` at the
destination and found again by it when unmapped (a lost create response never duplicates one); the
category and the connection's brand are ensured first; parts are written only when changed and recorded
as they land (a failed step leaves state the retry completes); soft delete and restore.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from catalog_sync.connections import Connection
from catalog_sync.connectors.http import HttpStatusError
from catalog_sync.entity_sync import (
    DEFAULT_LEASE_S,
    ChangeRecorder,
    EntitySync,
    OutcomeAction,
    StateRepository,
    SyncOutcome,
    is_older,
)
from catalog_sync.errors import PermanentError
from catalog_sync.models import FlatProduct, Grouping, canonical_hash
from catalog_sync.store.state import EntityState
from catalog_sync.sync_request import EntityType, SyncRequest

# Two-way: where each merged field (connections.MERGED_FIELDS) lives in the destination's parts.
MERGED_PART_KEYS: dict[str, tuple[str, str]] = {
    "name": ("fields", "title"),
    "description": ("fields", "description"),
    "is_active": ("fields", "status"),
    "price": ("price", "prices"),
}


class ProductSource(Protocol):
    """A source of flat products (connectors/pixlpay.py)."""

    def fetch_product(self, product_id: int) -> FlatProduct | None: ...

    def external_id(self, product_id: int) -> str: ...


class ProductDestination(Protocol):
    """A destination addressed by external id (connectors/medusa.py)."""

    def ensure_category(self, category: Grouping) -> str: ...

    def ensure_brand(self, name: str) -> str | None: ...  # None: the destination keeps no brands

    def find_product(self, external_id: str) -> dict[str, Any] | None: ...

    def product_parts(
        self, product: FlatProduct, *, category_id: str | None, brand_id: str | None
    ) -> dict[str, dict[str, Any]]: ...

    def unpublished(self, parts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]: ...

    def create_product(self, parts: dict[str, dict[str, Any]]) -> dict[str, Any]: ...

    def write_part(self, dest_id: str, name: str, payload: dict[str, Any], ids: dict[str, Any]) -> None: ...

    def soft_delete(self, dest_id: str) -> None: ...


class ExternalIdSync(EntitySync):
    """Brings flat products (no variants, one category) in sync with a destination that names them by
    external id. The same guarantees as CatalogSync: lease, version guard (source `updated_at`) and content
    hash, dependencies first (category, brand), parts written only when changed and recorded as they land
    (a failed step leaves state the retry completes), soft delete and restore, an audit entry per change.
    A product is found again by external id when unmapped, so a lost create response never duplicates it."""

    def __init__(
        self,
        connection: Connection,
        source: ProductSource,
        destination: ProductDestination,
        state: StateRepository,
        *,
        owner: str,
        brand: str | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        changes: ChangeRecorder | None = None,
        merged_fields: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(connection, state, owner=owner, lease_s=lease_s, changes=changes)
        self.source = source
        self.destination: ProductDestination = self.fenced(destination)
        self.brand = brand
        # Two-way connections: the parts' keys the merge (two_way_sync.py) writes at both sides; left out
        # of this engine's change hash and updates, written only to create.
        self.merged_fields = merged_fields
        # One-way, one lease reads and writes everything; a two-way connection's merge does the rest.
        self.covers_earlier_requests = not merged_fields

    def _own(self, parts: dict[str, Any], carry: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The parts without the merged fields (but those carried: see sync_product)."""
        if not self.merged_fields:
            return parts
        own = copy.deepcopy(parts)
        for name in sorted(self.merged_fields - carry):
            part, key = MERGED_PART_KEYS[name]
            own.get(part, {}).pop(key, None)
        return own

    def sync(self, request: SyncRequest) -> SyncOutcome:
        if request.entity_type != "product":  # categories and brands travel with their products
            return SyncOutcome(request.entity_type, request.entity_id, "absent")
        return self.sync_product(request.entity_id)

    def sync_product(
        self,
        product_id: int,
        *,
        carry: frozenset[str] = frozenset(),
        merge_state: dict[str, Any] | None = None,
    ) -> SyncOutcome:
        """Sync one product. Two-way (two_way_sync.py): `carry` names merged fields to write with this
        engine's own parts (the source's values the merge decided the destination needs), and
        `merge_state` is committed with them once they land."""
        with self._leased("product", product_id) as current:
            try:
                return self._sync_product(current, carry, merge_state)
            except HttpStatusError as exc:
                if exc.status != 404 or current.dest_id is None:
                    raise
            # The mapped product is gone at the destination (someone deleted it): forget the mapping and
            # resolve again by external id, adopting what is left or creating it anew.
            unmapped = replace(current, dest_id=None, parts=None, content_hash=None, deleted=False, merge={})
            return self._sync_product(unmapped)

    def _gone_at_source(self, current: EntityState) -> SyncOutcome:
        """The source no longer has the product: soft-delete it at the destination."""
        if current.deleted:
            return self._commit(current, "absent", [])
        if current.dest_id is None:
            # Never mapped, or a create that landed whose commit never came (the lease lost after the
            # writes, found by make chaos): the source id determines the external id to look for.
            found = self.destination.find_product(self.source.external_id(current.source_id))
            if found is None:
                return self._commit(current, "absent", [])
            current = replace(current, dest_id=str(found["id"]))
        try:
            self.destination.soft_delete(str(current.dest_id))
        except HttpStatusError as exc:
            if exc.status != 404:  # already gone at the destination: the tombstone is all that is left
                raise
        # Overwritten (fields) or renamed (the variant's SKU, in the price part): a restore rewrites both.
        parts = {**(current.parts or {}), "fields": None, "price": None}
        return self._commit(
            current, "deleted", ["status", "metadata"], deleted=True, content_hash="", parts=parts
        )

    def _sync_product(
        self,
        current: EntityState,
        carry: frozenset[str] = frozenset(),
        merge_state: dict[str, Any] | None = None,
    ) -> SyncOutcome:
        product = self.source.fetch_product(current.source_id)
        if product is None:
            return self._gone_at_source(current)
        if is_older(product.version, current.source_modified):
            return self._commit(current, "stale", [])
        category_id = self._category(product.category) if product.category else None
        brand_id = self._brand() if self.brand else None
        parts = self.destination.product_parts(product, category_id=category_id, brand_id=brand_id)
        digest = canonical_hash(self._own(parts))
        if current.dest_id and not current.deleted:
            parts = self._own(parts, carry)
        version = product.version.isoformat()
        if current.dest_id and not current.deleted and current.content_hash == digest and not carry:
            return self._commit(current, "unchanged", [], source_modified=version)
        applied: dict[str, Any] = copy.deepcopy(current.parts or {})
        carried_parts = {MERGED_PART_KEYS[name][0] for name in carry}
        for part in carried_parts:  # the destination's own edits may have moved it: write, whatever
            applied[part] = None
        dest_id = str(current.dest_id) if current.dest_id else None
        if dest_id is None:
            found = self.destination.find_product(product.external_id)
            if found is not None:
                dest_id, applied = str(found["id"]), {"ids": found.get("ids") or {}}
        created_now = dest_id is None
        if dest_id is None:
            # Seed 002: a new product is not on show until every part has landed: created unpublished,
            # then published by the fields write below, last.
            unpublished = self.destination.unpublished(parts)
            created = self.destination.create_product(unpublished)
            dest_id = str(created["id"])
            applied = {"ids": created.get("ids") or {}}
            applied |= {k: canonical_hash(v) for k, v in unpublished.items()}
        written: list[str] = []
        try:
            for part, payload in parts.items():
                part_digest = canonical_hash(payload)
                if applied.get(part) != part_digest:
                    self.destination.write_part(dest_id, part, payload, applied.get("ids") or {})
                    applied[part] = part_digest
                    written.append(part)
        except Exception as exc:
            if not (isinstance(exc, HttpStatusError) and exc.status == 404):  # resolved in sync_product
                # A new product refused for good stays unpublished, marked (compensated); otherwise the
                # retry completes what is recorded here.
                outcome = "compensated" if created_now and isinstance(exc, PermanentError) else "partial"
                progress = replace(current, dest_id=dest_id, parts=applied, last_outcome=outcome)
                self._commit_state(progress)
                self._record(progress, outcome, progress.source_modified, written)
            raise
        action: OutcomeAction = "created" if created_now else "restored" if current.deleted else "updated"
        landed = (
            {"merge": merge_state} if carried_parts and carried_parts <= set(written) and merge_state else {}
        )
        return self._commit(
            current, action, sorted(parts) if created_now else written, dest_id=dest_id,
            content_hash=digest, source_modified=version, deleted=False, parts=applied, **landed,
        )  # fmt: skip

    def _category(self, category: Grouping) -> str | None:
        return self._dependency("category", category.source_id, category.model_dump(mode="json"),
                                lambda: self.destination.ensure_category(category))  # fmt: skip

    def _brand(self) -> str | None:
        brand = self.brand or ""
        return self._dependency("brand", 0, {"name": brand}, lambda: self.destination.ensure_brand(brand))

    def _dependency(
        self, kind: EntityType, source_id: int, payload: Any, ensure: Callable[[], str | None]
    ) -> str | None:
        """Find-or-create at the destination once; afterwards only when the source's data changed."""
        digest = canonical_hash(payload)
        known = self.state.get(self.connection.name, kind, source_id)
        if known is not None and known.dest_id and known.content_hash == digest:
            return str(known.dest_id)
        with self._leased(kind, source_id) as state:
            dest_id = ensure()
            if dest_id is None:  # the destination keeps no such thing (its connector said why): no state
                self.state.release(self.connection.name, kind, source_id, owner=self.owner)
                return None
            action: OutcomeAction = "updated" if state.dest_id else "created"
            self._commit(state, action, sorted(payload), dest_id=dest_id, content_hash=digest)
        return dest_id
