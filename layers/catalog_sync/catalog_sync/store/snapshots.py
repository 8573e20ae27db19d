"""Hash snapshots of what a source listed, for audit-mode pulls and the full sync (in SyncStateTable).

Layout: pk = "{connection}#snapshot#{namespace}", sk = the entity id zero-padded to 12 digits (so a
Query returns the snapshot in id order), `h` = the listing's content hash. One partition per
(connection, namespace): a Query reads a 10,000-entity snapshot in a few 1 MB pages, and a run writes
only the entries that changed (BatchWriteItem, 25 at a time). No new table: the state table already
has the key schema, PITR and retention this needs.

`known_entity_ids` / `tombstoned_entity_ids` read the entity state rows the engine writes (pk =
"{connection}#{type}#{id}", sk = "state"): the entities present at the destination, for the full sync's
missed-delete sweep, and those soft-deleted there, for its missed-restore check.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from catalog_sync.errors import RetriableError
from catalog_sync.store.items import from_item, to_item

BATCH_WRITE = 25
MAX_UNPROCESSED_ROUNDS = 8


def _pk(connection: str, namespace: str) -> str:
    return f"{connection}#snapshot#{namespace}"


class SnapshotStore:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self.client = client

    def load(self, connection: str, namespace: str) -> dict[int, str]:
        """The whole snapshot: entity id -> content hash."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": _pk(connection, namespace)}),
            "ProjectionExpression": "sk, h",
        }
        return {int(v["sk"]): str(v["h"]) for v in self._query(kwargs)}

    def put_many(self, connection: str, namespace: str, hashes: Mapping[int, str]) -> int:
        pk = _pk(connection, namespace)
        requests = [
            {"PutRequest": {"Item": to_item({"pk": pk, "sk": f"{i:012d}", "h": h})}}
            for i, h in hashes.items()
        ]
        self._batch_write(requests)
        return len(requests)

    def delete_many(self, connection: str, namespace: str, ids: Iterable[int]) -> int:
        pk = _pk(connection, namespace)
        requests = [{"DeleteRequest": {"Key": to_item({"pk": pk, "sk": f"{i:012d}"})}} for i in ids]
        self._batch_write(requests)
        return len(requests)

    def known_entity_ids(self, connection: str, entity_type: str) -> set[int]:
        """Ids of the connection's entities that exist at the destination and are not soft-deleted.

        A filtered Scan (the state table is keyed per entity): fine for a daily job; a GSI on
        (connection#type) would make it a Query if catalogs grow past a few hundred thousand rows."""
        return self._entity_ids(
            connection,
            entity_type,
            "attribute_exists(dest_id) AND (attribute_not_exists(deleted) OR deleted = :f)",
            {":f": False},
        )

    def tombstoned_entity_ids(self, connection: str, entity_type: str) -> set[int]:
        """Ids of the connection's entities soft-deleted at the destination (their tombstones)."""
        return self._entity_ids(connection, entity_type, "deleted = :t", {":t": True})

    def _entity_ids(
        self, connection: str, entity_type: str, condition: str, values: dict[str, Any]
    ) -> set[int]:
        prefix = f"{connection}#{entity_type}#"
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": f"begins_with(pk, :p) AND sk = :s AND {condition}",
            "ExpressionAttributeValues": to_item({":p": prefix, ":s": "state", **values}),
            "ProjectionExpression": "pk",
        }
        found: set[int] = set()
        for _ in range(100_000):
            resp = self.client.scan(**kwargs)
            for item in resp.get("Items", []):
                tail = str(from_item(item)["pk"])[len(prefix) :]
                if tail.isdigit():
                    found.add(int(tail))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return found

    def _query(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for _ in range(100_000):
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table_name: requests[start : start + BATCH_WRITE]}
            for attempt in range(MAX_UNPROCESSED_ROUNDS):
                resp = self.client.batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            if pending:
                raise RetriableError("snapshot write throttled: unprocessed items left after retries")
