"""SyncStateTable: per-entity sync state (id map, version guard, lease) and job checkpoints.

Layout: entity state at pk = "{connection}#{entity_type}#{source_id}", sk = "state"; checkpoints at
pk = "{connection}#checkpoint", sk = job name. A lease (owner + expiry) serialises work on one entity
across concurrent consumers, so two versions of one product are never written at the same time.

Destination ownership at pk = "{connection}#{entity_type}#dest#{dest_id}", sk = "owner": which source id
owns a destination entity. Two source ids can map to one destination product (BigCommerce gives a
product deleted and re-created with the same SKU a new id, and the new id adopts the destination product
by SKU); only the owner may soft-delete it. A deleter holds that row's lease while it checks and writes,
and an adopter claims the row only while no deleter holds it, so a late delete of the old id can never
hide the product the new id owns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from catalog_sync.errors import RetriableError
from catalog_sync.store.items import from_item, to_item


class LeaseHeld(RetriableError):
    code = "lease_held"


@dataclass(frozen=True)
class EntityState:
    connection: str
    entity_type: str
    source_id: int
    dest_id: int | str | None = None  # BigCommerce ids are ints, Medusa ids strings ("prod_01H...")
    source_modified: str | None = None  # ISO-8601 of the source version last applied
    content_hash: str | None = None
    deleted: bool = False
    revision: int = 0
    last_outcome: str | None = None
    # Per-part state of a product: {"fields": hash, "variants": {sku: [dest_id, hash]},
    # "images": {source_image_id: [dest_id, hash]}}, so an update writes only the parts that changed.
    parts: dict[str, Any] | None = None
    lease_until: float | None = None  # epoch seconds; set while a worker holds the lease
    # Two-way connections (two_way_sync.py): {"base": last synced value per merged field,
    # "echo": {side: hash of the merged fields as this system last wrote them there}}.
    merge: dict[str, Any] | None = None
    # When the last complete sync took the lease (epoch seconds): it read the source after that, so every
    # change queued before it is at the destination (consumer.SyncBatch acknowledges such requests).
    synced_from: float | None = None
    # Set by the engine while it holds the lease: when it took it (becomes `synced_from` on a commit).
    leased_at: float | None = None

    @classmethod
    def from_values(cls, connection: str, entity_type: str, source_id: int, v: dict[str, Any]) -> EntityState:
        return cls(
            connection=connection,
            entity_type=entity_type,
            source_id=source_id,
            dest_id=v.get("dest_id"),
            source_modified=v.get("source_modified"),
            content_hash=v.get("content_hash"),
            deleted=bool(v.get("deleted", False)),
            revision=int(v.get("revision", 0)),
            last_outcome=v.get("last_outcome"),
            parts=v.get("parts"),
            lease_until=float(v["lease_until"]) if v.get("lease_until") is not None else None,
            merge=v.get("merge_state"),
            synced_from=float(v["synced_from"]) if v.get("synced_from") is not None else None,
        )


def _entity_key(connection: str, entity_type: str, source_id: int) -> dict[str, Any]:
    return to_item({"pk": f"{connection}#{entity_type}#{source_id}", "sk": "state"})


def _owner_key(connection: str, entity_type: str, dest_id: int | str) -> dict[str, Any]:
    return to_item({"pk": f"{connection}#{entity_type}#dest#{dest_id}", "sk": "owner"})


_LEASE_FREE = "attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :owner"


class StateStore:
    def __init__(self, table_name: str, client: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.table_name = table_name
        self.client = client
        self.clock = clock

    def get(self, connection: str, entity_type: str, source_id: int) -> EntityState | None:
        resp = self.client.get_item(
            TableName=self.table_name,
            Key=_entity_key(connection, entity_type, source_id),
            ConsistentRead=True,
        )
        if "Item" not in resp:
            return None
        return EntityState.from_values(connection, entity_type, source_id, from_item(resp["Item"]))

    def now(self) -> float:
        return self.clock()

    def synced_from(
        self, connection: str, entities: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], float]:
        """`synced_from` of each (entity type, id) that has one, in one strongly consistent BatchGetItem
        (at most 100 keys: a batch names at most 10). Keys DynamoDB leaves unprocessed are left out:
        their requests are simply synced."""
        keys = list(dict.fromkeys(entities))[:100]
        if not keys:
            return {}
        resp = self.client.batch_get_item(
            RequestItems={
                self.table_name: {
                    "Keys": [_entity_key(connection, kind, source_id) for kind, source_id in keys],
                    "ConsistentRead": True,
                    "ProjectionExpression": "pk, synced_from",
                }
            }
        )
        found: dict[tuple[str, int], float] = {}
        for item in resp.get("Responses", {}).get(self.table_name, []):
            values = from_item(item)
            _, kind, source_id = str(values["pk"]).rsplit("#", 2)
            if values.get("synced_from") is not None:
                found[(kind, int(source_id))] = float(values["synced_from"])
        return found

    def acquire(
        self, connection: str, entity_type: str, source_id: int, *, owner: str, lease_s: float
    ) -> EntityState:
        """Take the entity's lease (or raise LeaseHeld) and return its current state."""
        attributes = self._take_lease(
            _entity_key(connection, entity_type, source_id),
            owner,
            lease_s,
            f"{entity_type} {source_id} is being synced by another worker",
        )
        return EntityState.from_values(connection, entity_type, source_id, attributes)

    def renew(
        self, connection: str, entity_type: str, source_id: int, *, owner: str, lease_s: float
    ) -> float:
        """Extend a lease this worker still holds (LeaseHeld if it lost it); the new expiry."""
        until = self.clock() + lease_s
        self._update_or_held(
            f"lost the lease on {entity_type} {source_id}",
            Key=_entity_key(connection, entity_type, source_id),
            UpdateExpression="SET lease_until = :until",
            ConditionExpression="lease_owner = :owner",  # nobody took it, even if it expired
            ExpressionAttributeValues=to_item({":owner": owner, ":until": until}),
        )
        return until

    # --- destination ownership ----------------------------------------------------------------------

    def destination_owner(self, connection: str, entity_type: str, dest_id: int | str) -> int | None:
        """The source id that owns a destination entity (created or adopted it), if any."""
        resp = self.client.get_item(
            TableName=self.table_name, Key=_owner_key(connection, entity_type, dest_id), ConsistentRead=True
        )
        owner_id = from_item(resp["Item"]).get("owner_id") if "Item" in resp else None
        return int(owner_id) if owner_id is not None else None

    def claim_destination(
        self, connection: str, entity_type: str, dest_id: int | str, source_id: int
    ) -> None:
        """Record `source_id` as the owner of a destination entity it created or adopted; LeaseHeld while
        a deleter is deciding about it (the adopter retries, and then restores what that delete hid)."""
        self._update_or_held(
            f"{entity_type} {dest_id} at the destination is being deleted",
            Key=_owner_key(connection, entity_type, dest_id),
            UpdateExpression="SET owner_id = :src",
            ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now",
            ExpressionAttributeValues=to_item({":src": source_id, ":now": self.clock()}),
        )

    def lease_destination(
        self, connection: str, entity_type: str, dest_id: int | str, *, owner: str, lease_s: float
    ) -> int | None:
        """Lease a destination entity's ownership row (LeaseHeld if another worker has it); its owner."""
        attributes = self._take_lease(
            _owner_key(connection, entity_type, dest_id),
            owner,
            lease_s,
            f"{entity_type} {dest_id} at the destination is being changed by another worker",
        )
        owner_id = attributes.get("owner_id")
        return int(owner_id) if owner_id is not None else None

    def release_destination(
        self, connection: str, entity_type: str, dest_id: int | str, *, owner: str
    ) -> None:
        self._release(_owner_key(connection, entity_type, dest_id), owner)

    def _take_lease(self, key: dict[str, Any], owner: str, lease_s: float, held: str) -> dict[str, Any]:
        now = self.clock()
        resp = self._update_or_held(
            held,
            Key=key,
            UpdateExpression="SET lease_owner = :owner, lease_until = :until",
            ConditionExpression=_LEASE_FREE,
            ExpressionAttributeValues=to_item({":owner": owner, ":until": now + lease_s, ":now": now}),
            ReturnValues="ALL_NEW",
        )
        return from_item(resp["Attributes"])

    def _update_or_held(self, held: str, **update: Any) -> Any:
        """A conditional UpdateItem; its condition failing means another worker has the lease."""
        try:
            return self.client.update_item(TableName=self.table_name, **update)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise LeaseHeld(held) from None
            raise

    def commit(self, state: EntityState, *, owner: str) -> None:
        """Write the new state and release the lease, only if we still hold it."""
        values = {
            ":dest": state.dest_id,
            ":mod": state.source_modified,
            ":hash": state.content_hash,
            ":del": state.deleted,
            ":out": state.last_outcome,
            ":parts": state.parts,
            ":merge": state.merge,
            ":from": state.synced_from,
            ":now": int(self.clock()),
            ":owner": owner,
            ":one": 1,
        }
        present = {k: v for k, v in values.items() if v is not None}
        sets = ", ".join(
            f"{attr} = {ph}"
            for attr, ph in (
                ("dest_id", ":dest"),
                ("source_modified", ":mod"),
                ("content_hash", ":hash"),
                ("deleted", ":del"),
                ("last_outcome", ":out"),
                ("parts", ":parts"),
                ("merge_state", ":merge"),  # `merge` is a reserved word
                ("synced_from", ":from"),
                ("updated_at", ":now"),
            )
            if ph in present
        )
        self._update_or_held(
            f"lost the lease on {state.entity_type} {state.source_id}",
            Key=_entity_key(state.connection, state.entity_type, state.source_id),
            UpdateExpression=f"SET {sets} ADD revision :one REMOVE lease_owner, lease_until",
            ConditionExpression="lease_owner = :owner",
            ExpressionAttributeValues=to_item(present),
        )

    def checkpoint(self, state: EntityState, *, owner: str) -> None:
        """Record where an entity's write has got (its destination id, its parts, `partial`) keeping
        the lease, only if we still hold it: a create that landed is mapped even if the commit never
        comes."""
        values = {":dest": state.dest_id, ":parts": state.parts or {}, ":owner": owner}
        self._update_or_held(
            f"lost the lease on {state.entity_type} {state.source_id}",
            Key=_entity_key(state.connection, state.entity_type, state.source_id),
            UpdateExpression="SET dest_id = :dest, parts = :parts, last_outcome = :partial",
            ConditionExpression="lease_owner = :owner",
            ExpressionAttributeValues=to_item({**values, ":partial": "partial"}),
        )

    def release(self, connection: str, entity_type: str, source_id: int, *, owner: str) -> None:
        self._release(_entity_key(connection, entity_type, source_id), owner)

    def _release(self, key: dict[str, Any], owner: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues=to_item({":owner": owner}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def iter_states(self, connection: str, *, max_pages: int = 100_000) -> Iterator[EntityState]:
        """Every entity state row of a connection: a filtered Scan (an operator's status query, not a
        hot path; the table is keyed per entity)."""
        prefix = f"{connection}#"
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(pk, :p) AND sk = :s",
            "ExpressionAttributeValues": to_item({":p": prefix, ":s": "state"}),
        }
        for _ in range(max_pages):
            resp = self.client.scan(**kwargs)
            for item in resp.get("Items", []):
                values = from_item(item)
                _, entity_type, source_id = str(values["pk"]).rsplit("#", 2)
                if source_id.isdigit() and str(values["pk"]) == f"{connection}#{entity_type}#{source_id}":
                    yield EntityState.from_values(connection, entity_type, int(source_id), values)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # --- checkpoints --------------------------------------------------------------------------------

    def get_checkpoint(self, connection: str, name: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.table_name,
            Key=to_item({"pk": f"{connection}#checkpoint", "sk": name}),
            ConsistentRead=True,
        )
        if "Item" not in resp:
            return None
        values = from_item(resp["Item"])
        return dict(values.get("data") or {})

    def put_checkpoint(self, connection: str, name: str, data: dict[str, Any]) -> None:
        item = {"pk": f"{connection}#checkpoint", "sk": name, "data": data, "updated_at": int(self.clock())}
        self.client.put_item(TableName=self.table_name, Item=to_item(item))
