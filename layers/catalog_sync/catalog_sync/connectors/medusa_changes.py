"""Medusa's side of two-way sync: one product's state as it flows back, and the cursor pull on `updated_at`
(seed 001's cursor mode, the safety net under our webhook forwarder).

What a real Medusa 2.21.2 does (tests/contract/medusa, `make contract`):
- `GET /admin/products` takes `updated_at[$gt|$gte|$lt|$lte|$eq]=<ISO>` and `order=<one field>` (`-` for
  descending). `order=updated_at,id` is a 500 and `id[$gt]` a 400: there is no (updated_at, id) keyset.
- Ties are real: a batch write (`POST /admin/products/batch`) gives every product the same `updated_at`, to
  the millisecond, and `order=updated_at` returns them in no particular order (not by id).
- Timestamps are kept to the millisecond (JavaScript dates): `updated_at[$eq]` finds a run of ties exactly.
- A variant's price edit moves the variant's `updated_at`, not the product's: this pull does not see it
  (the forwarder does: it sends product.updated for variant events). `MedusaProductState.modified_at` is
  the later of the two.

The pull, one page per call, so the caller checkpoints the cursor after each:
- normal mode (`cursor.id is None`: everything up to `cursor.updated_at` is read): `updated_at[$gt]=` the
  cursor, `order=updated_at`. A page that is not full is the end. A full page may cut the run of its last
  timestamp anywhere (ties come in any order), so that run is left for the next call: the cursor moves to
  the page's previous timestamp, all of whose products came before it.
- tie mode, when a full page holds a single timestamp T (a run longer than a page): the run is read by id
  (`updated_at[$eq]=T`, `order=id`, offset). The cursor keeps (T, last id, offset); the next call re-reads
  one row before its offset and checks that row is at or before the last id (else products left the run,
  edited meanwhile, and the run is read again from its start, skipping ids already read). Once the run
  ends the cursor is (T, None) and normal mode goes on after T.
A product edited while the pull runs gets a later `updated_at` and is read again later; a product whose
transaction commits with a time before the cursor is what the caller's overlap window is for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from catalog_sync.errors import PermanentError

STATE_FIELDS = "id,title,description,status,external_id,updated_at,*variants,*variants.prices"
STATUSES = ("draft", "proposed", "published", "rejected")


class _Http(Protocol):
    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any: ...


@dataclass(frozen=True)
class MedusaProductState:
    id: str
    title: str
    description: str  # "" when Medusa holds none
    status: str  # draft | proposed | published | rejected
    price: float | None  # the first variant's price in the connection's currency (None: no such price)
    external_id: str | None  # pixlpay_<id> for a product catalog-sync made
    updated_at: datetime  # the product's own
    variant_id: str | None  # the first variant, which carries `price`
    modified_at: datetime  # the later of the product's and that variant's updated_at (a price edit moves only
    # the variant's): the side's modification time for a newest-wins rule


@dataclass(frozen=True)
class UpdatedAtCursor:
    updated_at: datetime
    id: str | None = None  # tie mode: the last product read in the run at updated_at; None: all of it read
    run_offset: int = 0  # tie mode: how many of that run (by id) the reads have passed


@dataclass(frozen=True)
class ChangedProducts:
    products: list[MedusaProductState]  # in (updated_at, id) order, all after the cursor passed in
    cursor: UpdatedAtCursor | None  # checkpoint it and pass it next; None only when nothing was ever read
    more: bool  # another call may find more now


def product_state(product: Mapping[str, Any], currency_code: str) -> MedusaProductState:
    try:
        variants = product.get("variants") or []
        variant = variants[0] if variants else None
        updated_at = parse_time(product["updated_at"])
        price = None
        modified_at = updated_at
        if variant is not None:
            ours = [p for p in variant.get("prices") or [] if p.get("currency_code") == currency_code]
            price = float(ours[0]["amount"]) if ours else None
            if variant.get("updated_at"):
                modified_at = max(updated_at, parse_time(variant["updated_at"]))
        return MedusaProductState(
            id=str(product["id"]),
            title=str(product["title"]),
            description=str(product.get("description") or ""),
            status=str(product["status"]),
            price=price,
            external_id=product.get("external_id") or None,
            updated_at=updated_at,
            variant_id=str(variant["id"]) if variant is not None else None,
            modified_at=modified_at,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"medusa product {product.get('id')}: unexpected shape: {exc}") from exc


def parse_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """As Medusa writes times: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def changed_products(
    http: _Http, currency_code: str, since: UpdatedAtCursor | None, *, limit: int = 50
) -> ChangedProducts:
    if limit < 2:
        raise ValueError("limit must be at least 2")
    if since is not None and since.id is not None:
        return _tie_run(http, currency_code, since, limit)
    params: dict[str, Any] = {"fields": STATE_FIELDS, "order": "updated_at", "limit": limit}
    if since is not None:
        params["updated_at[$gt]"] = iso(since.updated_at)
    rows = _states(http, params, currency_code)
    if len(rows) < limit:
        return ChangedProducts(rows, UpdatedAtCursor(rows[-1].updated_at) if rows else since, more=False)
    last = rows[-1].updated_at
    if rows[0].updated_at == last:  # one timestamp fills the page: read that run by id
        return _tie_run(http, currency_code, UpdatedAtCursor(last, id="", run_offset=0), limit)
    kept = [r for r in rows if r.updated_at < last]
    return ChangedProducts(kept, UpdatedAtCursor(kept[-1].updated_at), more=True)


def _tie_run(http: _Http, currency_code: str, cursor: UpdatedAtCursor, limit: int) -> ChangedProducts:
    after = cursor.id or ""
    start = max(0, cursor.run_offset - 1)  # one row back: the last one read, to check nothing shifted
    size = limit + 1 if start else limit
    rows = _run_page(http, currency_code, cursor.updated_at, start, size)
    if start and (not rows or rows[0].id > after):  # products left the run: read it again from its start
        start, size = 0, limit
        rows = _run_page(http, currency_code, cursor.updated_at, start, size)
    new = [r for r in rows if r.id > after]
    if len(rows) < size:  # the run ends here
        return ChangedProducts(new, UpdatedAtCursor(cursor.updated_at), more=True)
    last_id = new[-1].id if new else after
    return ChangedProducts(new, UpdatedAtCursor(cursor.updated_at, last_id, start + len(rows)), more=True)


def _run_page(
    http: _Http, currency_code: str, moment: datetime, offset: int, limit: int
) -> list[MedusaProductState]:
    params = {
        "fields": STATE_FIELDS,
        "updated_at[$eq]": iso(moment),
        "order": "id",
        "limit": limit,
        "offset": offset,
    }
    return _states(http, params, currency_code)


def _states(http: _Http, params: Mapping[str, Any], currency_code: str) -> list[MedusaProductState]:
    products = http.request("GET", "products", params=params).get("products") or []
    states = [product_state(p, currency_code) for p in products]
    return sorted(states, key=lambda s: (s.updated_at, s.id))
