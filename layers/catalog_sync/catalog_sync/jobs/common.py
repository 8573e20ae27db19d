"""What the scheduled jobs share: their storage ports, the sync requests they enqueue, listing hashes,
compact id sets for checkpoints, and the time budget of one invocation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from catalog_sync.models import canonical_hash
from catalog_sync.sync_request import Action, EntityType, Origin, Side, SyncRequest

# Fields of a listed entity that change without its content changing (counters, the modification
# stamp itself): left out of the listing hash so that only real edits count as changes.
VOLATILE_FIELDS = frozenset(
    {"date_modified", "updated_at", "date_last_imported", "view_count", "views", "total_sold"}
)


class Checkpoints(Protocol):
    def get_checkpoint(self, connection: str, name: str) -> dict[str, Any] | None: ...

    def put_checkpoint(self, connection: str, name: str, data: dict[str, Any]) -> None: ...


class Sender(Protocol):
    def send_many(self, requests: Iterable[SyncRequest]) -> int: ...


class Snapshots(Protocol):
    def load(self, connection: str, namespace: str) -> dict[int, str]: ...

    def put_many(self, connection: str, namespace: str, hashes: Mapping[int, str]) -> int: ...

    def delete_many(self, connection: str, namespace: str, ids: Iterable[int]) -> int: ...


def sync_requests(
    connection: str,
    ids: Iterable[int | str],
    origin: Origin,
    action: Action = "upsert",
    entity_type: EntityType = "product",
    *,
    side: Side = "source",
) -> list[SyncRequest]:
    """Requests for entities of one side (a two-way connection's destination names them by its ids)."""
    if side == "destination":
        return [
            SyncRequest(connection=connection, entity_type=entity_type, entity_id=0, action=action,
                        origin=origin, side="destination", dest_id=str(i))
            for i in ids
        ]  # fmt: skip
    return [
        SyncRequest(
            connection=connection, entity_type=entity_type, entity_id=int(i), action=action, origin=origin
        )
        for i in ids
    ]


def listing_hash(item: Mapping[str, Any]) -> str:
    """Content hash of one listed entity (BigCommerce with include=variants,images, or Pixlpay)."""
    return canonical_hash({k: v for k, v in item.items() if k not in VOLATILE_FIELDS})


def time_left_from(deadline_monotonic: float) -> Callable[[], float]:
    return lambda: deadline_monotonic - time.monotonic()


class IdSet:
    """A set of ints kept as sorted [first, last] ranges: a pass's seen ids fit in one checkpoint."""

    def __init__(self, ranges: Iterable[Iterable[int]] = ()) -> None:
        self._ids: set[int] = set()
        for pair in ranges:
            first, last = (int(x) for x in pair)
            self._ids.update(range(first, last + 1))

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._ids))

    def add(self, item: int) -> None:
        self._ids.add(item)

    def ranges(self) -> list[list[int]]:
        result: list[list[int]] = []
        for i in sorted(self._ids):
            if result and result[-1][1] == i - 1:
                result[-1][1] = i
            else:
                result.append([i, i])
        return result
