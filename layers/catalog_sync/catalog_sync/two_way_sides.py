"""Each system's view of the merged fields (connections.MERGED_FIELDS) for two-way connections: read one
product's values and its own modification time, write some of them back, and find which source product
a destination product is the counterpart of.

Values are normalised so that equal means equal at both sides: prices as floats to the cent, stock as
int, flags as bool, text as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from catalog_sync.merge import Snapshot
from catalog_sync.models import canonical_hash


class MergeSide(Protocol):
    def read(self, entity_id: int | str) -> Snapshot | None: ...

    def write(self, entity_id: int | str, values: Mapping[str, Any]) -> None: ...


def values_hash(values: Mapping[str, Any]) -> str:
    return canonical_hash(dict(values))


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _price(value: Any) -> float:
    return round(float(value or 0), 2)


class BigCommerceSide:
    """A BigCommerce store's products (v3 catalog): the merged fields are product fields of the same
    names, written with one `PUT /catalog/products/{id}`."""

    def __init__(self, client: Any, fields: frozenset[str]) -> None:
        self.client = client
        self.fields = fields

    def read(self, entity_id: int | str) -> Snapshot | None:
        data = self.client.get_product(int(entity_id))
        if data is None:
            return None
        return Snapshot(self.values_of(data), _when(data.get("date_modified")))

    def values_of(self, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in sorted(self.fields):
            raw = data.get(name)
            if name in ("price", "sale_price"):
                values[name] = _price(raw)
            elif name == "inventory_level":
                values[name] = int(raw or 0)
            elif name == "is_visible":
                values[name] = bool(raw)
            else:
                values[name] = str(raw or "")
        return values

    def write(self, entity_id: int | str, values: Mapping[str, Any]) -> None:
        self.client.update_product(int(entity_id), dict(values))


class PixlpaySide:
    """A Pixlpay store (seed 000): name, description, price and is_active, written back with
    `PixlpayClient.update_product`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def read(self, entity_id: int | str) -> Snapshot | None:
        data = self.client.get_product(int(entity_id))
        if data is None:
            return None
        values = {
            "name": str(data.get("name") or ""),
            "description": str(data.get("description") or ""),
            "price": _price(data.get("price")),
            "is_active": bool(data.get("is_active", True)),
        }
        return Snapshot(values, _when(data.get("updated_at")))

    def write(self, entity_id: int | str, values: Mapping[str, Any]) -> None:
        self.client.update_product(int(entity_id), dict(values))


class MedusaSide:
    """A Medusa v2 store: title, description, status (published = active) and the price of the product's
    first variant in the connection's currency (MedusaClient.get_product_state / update_product_fields).
    Its modification time is the later of the product's and that variant's: a price edit moves only the
    variant's `updated_at`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def read(self, entity_id: int | str) -> Snapshot | None:
        state = self.client.get_product_state(str(entity_id))
        if state is None:
            return None
        values = {
            "name": state.title,
            "description": state.description,
            "price": _price(state.price),
            "is_active": state.status == "published",
        }
        return Snapshot(values, state.modified_at)

    def external_id(self, entity_id: int | str) -> str | None:
        state = self.client.get_product_state(str(entity_id))
        return None if state is None else state.external_id

    def write(self, entity_id: int | str, values: Mapping[str, Any]) -> None:
        names = {"name": "title", "description": "description", "price": "price"}
        fields = {names[k]: v for k, v in values.items() if k in names}
        if "is_active" in values:
            fields["status"] = "published" if values["is_active"] else "draft"
        self.client.update_product_fields(str(entity_id), fields)
