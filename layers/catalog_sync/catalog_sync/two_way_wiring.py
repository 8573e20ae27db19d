"""Builds a two-way connection's engine from its one-way engine and its two clients, by system kinds."""

from __future__ import annotations

from typing import Any

from catalog_sync.connections import Connection
from catalog_sync.connectors.pixlpay import external_id
from catalog_sync.entity_sync import DEFAULT_LEASE_S
from catalog_sync.two_way_sides import BigCommerceSide, MedusaSide, PixlpaySide
from catalog_sync.two_way_sync import TwoWaySync

PIXLPAY_PREFIX = external_id(0).removesuffix("0")


def two_way_engine(
    connection: Connection,
    forward: Any,
    source: Any,
    destination: Any,
    state: Any,
    conflicts: Any,
    *,
    owner: str,
    changes: Any = None,
    lease_s: float = DEFAULT_LEASE_S,
) -> TwoWaySync:
    kinds = (connection.source.kind, connection.destination.kind)
    fields = frozenset(connection.merge_rules())
    if kinds == ("bigcommerce", "bigcommerce"):
        return TwoWaySync(
            connection,
            forward,
            BigCommerceSide(source, fields),
            BigCommerceSide(destination, fields),
            state,
            conflicts,
            owner=owner,
            lease_s=lease_s,
            changes=changes,
            counterpart=_bigcommerce_counterpart(connection.name, source, destination, state),
            create_at_source=_bigcommerce_reverse_create(
                connection, source, destination, state, owner, changes, lease_s
            ),
        )
    medusa = MedusaSide(destination)
    return TwoWaySync(
        connection,
        forward,
        PixlpaySide(source),
        medusa,
        state,
        conflicts,
        owner=owner,
        lease_s=lease_s,
        changes=changes,
        counterpart=lambda dest_id: _pixlpay_id(medusa.external_id(dest_id)),
    )


def _pixlpay_id(value: str | None) -> int | None:
    """`pixlpay_12` -> 12; None for a product that did not come from Pixlpay."""
    if not value or not value.startswith(PIXLPAY_PREFIX) or not value[len(PIXLPAY_PREFIX) :].isdigit():
        return None
    return int(value[len(PIXLPAY_PREFIX) :])


def _bigcommerce_counterpart(name: str, source: Any, destination: Any, state: Any) -> Any:
    def counterpart(dest_id: str) -> int | None:
        owner = state.destination_owner(name, "product", int(dest_id))
        if owner is not None:
            return int(owner)
        data = destination.get_product(int(dest_id))
        sku = (data or {}).get("sku")
        found = source.find_product_by_sku(sku) if sku else None
        return int(found["id"]) if found else None

    return counterpart


def _bigcommerce_reverse_create(
    connection: Connection,
    source: Any,
    destination: Any,
    state: Any,
    owner: str,
    changes: Any,
    lease_s: float,
) -> Any:
    """A product created at the destination store: created at the source by the one-way engine run the
    other way (hidden until complete, categories and brand mapped on the way), under its own state."""
    from catalog_sync.engine import CatalogSync

    reverse = connection.model_copy(
        update={
            "name": f"{connection.name}~reverse",
            "source": connection.destination,
            "destination": connection.source,
            "direction": "one-way",
            "field_rules": {},
        }
    )

    def create(dest_id: str) -> int | None:
        engine = CatalogSync(
            reverse, destination, source, state, owner=owner, changes=changes, lease_s=lease_s
        )
        outcome = engine.sync_product(int(dest_id))
        return int(outcome.dest_id) if outcome.dest_id is not None and outcome.action != "absent" else None

    return create
