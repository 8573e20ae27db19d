"""The consumer's per-batch logic, free of Lambda types: one sync per entity per batch.

Several notifications for one entity in a batch share one fetch and one write, and the batch's entities
are synced together before the records are judged (`sync_all`), so the engine can write several
products' fields in one batch request; each record then reuses its entity's outcome or error.
A failed record raises, so the batch processor reports it alone; retriable failures also push the
message's next visibility out exponentially. A record that lost its entity's lease to another worker
(LeaseHeld) is not a failure of the record: it is queued again as a new message, delayed with the same
backoff but never longer than one lease (MAX_DEFERRALS times, and beyond while the request is younger
than DEFER_FOR_S), and acknowledged. Otherwise
contention on a hot entity spends the message's receives (maxReceiveCount) and parks a recoverable
request in the DLQ (found by make chaos). Likewise a sync the store throttled for longer than it could
wait (Throttled: a 429's window reset past the lease) is queued again for when the store said.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from catalog_sync.entity_sync import SyncOutcome
from catalog_sync.errors import CatalogSyncError, PermanentError, Throttled
from catalog_sync.store.state import LeaseHeld
from catalog_sync.sync_request import SyncRequest

logger = logging.getLogger(__name__)

BACKOFF_MAX_S = 900
# A lease is held at most its length (renewed only while its holder's invocation lives), so a request
# deferred this many times with growing delays has waited out many leases: then it fails as any other...
MAX_DEFERRALS = 8
# ...unless it was queued less than this long ago. Contention and the store's throttling are congestion,
# not failure: a hot product during a sustained burst (the store's quota the bottleneck) kept its copies
# deferred past 8 times and then spent their receives into the DLQ (make chaos, 20 x 1,000). An hour of
# it is no longer congestion: the request then fails through its receives and the DLQ alarm says so.
DEFER_FOR_S = 3600
# Clocks of the functions that queue requests and of the consumers that take leases may differ a little:
# a request counts as covered only by a lease taken this much after it was queued.
CLOCK_SKEW_S = 1.0


def backoff_seconds(receive_count: int, base_s: int) -> int:
    """Visibility for the next attempt: base, 2x base, 4x base ... capped at 15 min, with jitter."""
    ceiling = min(BACKOFF_MAX_S, base_s * 2 ** max(0, receive_count - 1))
    return int(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - jitter, not security


class SyncBatch:
    def __init__(
        self,
        services: Any,
        *,
        owner: str,
        deadline: Callable[[], float] | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.services = services
        self.owner = owner
        self.deadline = deadline
        self.clock = clock
        self._results: dict[tuple[str, str, int | str], SyncOutcome | Exception] = {}

    def sync_all(self, bodies: Sequence[str]) -> None:
        """Sync every entity the batch names before its records are judged one by one, so an engine
        that writes several entities in one request (BigCommerce's batch product update) sees them
        together. Malformed bodies are left for `handle` to dead-letter."""
        by_connection: dict[str, list[SyncRequest]] = {}
        for body in bodies:
            try:
                request = _parse(body)
            except PermanentError:
                continue
            if request.entity_key not in self._results:
                by_connection.setdefault(request.connection, []).append(request)
        for connection, named in by_connection.items():
            try:
                engine = self.services.engine(connection, owner=self.owner, deadline=self.deadline)
            except Exception as exc:  # e.g. an unknown connection: every record of it fails alike
                self._results.update({r.entity_key: exc for r in named})
                continue
            covers = getattr(engine, "covers_earlier_requests", False)
            requests = self._uncovered(connection, named) if covers else named
            if not hasattr(engine, "sync_many"):
                for request in requests:
                    self._results[request.entity_key] = self._sync(request, engine)
                continue
            for request, result in zip(requests, self._sync_many(engine, requests), strict=True):
                self._results[request.entity_key] = result

    def _uncovered(self, connection: str, requests: list[SyncRequest]) -> list[SyncRequest]:
        """The requests still to sync; the others' entities were synced completely under a lease taken
        after they were queued (a hot entity's many copies, each deferred or redelivered), so they are
        acknowledged as `covered` without touching either store (found by make chaos: the copies' own
        syncs kept a hot product's lease contended and its store throttled until one reached the DLQ)."""
        candidates = [r for r in requests if r.queued_at is not None and r.side == "source"]
        if not candidates:
            return requests
        try:
            synced = self.services.state.synced_from(
                connection, [(r.entity_type, r.entity_id) for r in candidates]
            )
        except Exception:  # an optimisation only: sync them all
            logger.warning("synced_from lookup failed; syncing every request", exc_info=True)
            return requests
        # An entity is skipped only when every request for it in the batch is covered.
        pending = {
            r.entity_key
            for r in requests
            if r.queued_at is None
            or r.side != "source"
            or synced.get((r.entity_type, r.entity_id), 0.0) <= r.queued_at + CLOCK_SKEW_S
        }
        for request in requests:
            if request.entity_key not in pending:
                self._results[request.entity_key] = SyncOutcome(
                    request.entity_type, request.entity_id, "covered"
                )
        return [r for r in requests if r.entity_key in pending]

    def handle(
        self, body: str, *, receive_count: int = 1, receipt_handle: str | None = None, message_id: str = ""
    ) -> str:
        """Sync the record's entity; return the outcome's action, or raise to report the record failed."""
        try:
            request = _parse(body)
        except PermanentError as exc:
            return self._dead_letter(body, exc, message_id)
        key = request.entity_key
        if key not in self._results:
            self._results[key] = self._sync(request)
        result = self._results[key]
        if isinstance(result, LeaseHeld | Throttled) and self._may_defer(request):
            return self._defer(request, result)
        if isinstance(result, Exception):
            self._record_failure(request, result, receive_count, receipt_handle)
            if isinstance(result, PermanentError):
                return self._dead_letter(body, result, message_id)
            raise result
        if request.delivery_id:
            self.services.events.mark_processed(request.connection, request.delivery_id, result.action)
        return result.action

    def _may_defer(self, request: SyncRequest) -> bool:
        if request.deferrals < MAX_DEFERRALS:
            return True
        return request.queued_at is not None and self.clock() - request.queued_at < DEFER_FOR_S

    def _defer(self, request: SyncRequest, exc: LeaseHeld | Throttled) -> str:
        """Another worker holds the entity, or the store asked us to come back later: queue the request
        again, then, and acknowledge this one. If the send fails, the record fails as usual (it comes back
        after its visibility timeout)."""
        later = request.model_copy(update={"deferrals": request.deferrals + 1})
        settings = self.services.settings
        if isinstance(exc, Throttled):
            # When the store said, spread over a tenth more so the deferred syncs do not all come at once.
            delay = min(BACKOFF_MAX_S, math.ceil(exc.after_s * random.uniform(1.0, 1.1)))  # noqa: S311
        else:
            # Never longer than one lease: the holder commits or loses it by then, waiting more waits
            # for nothing (and made a hot entity's last copies trail the rest by minutes in make chaos).
            delay = min(backoff_seconds(later.deferrals, settings.retry_backoff_base_s), settings.lease_s)
        self._record_failure(request, exc, later.deferrals, None)  # logged (lease_held); the event waits
        try:
            self.services.queue.send(later, delay_s=delay)
        except Exception:
            raise exc from None
        return "deferred"

    def _dead_letter(self, body: str, exc: PermanentError, message_id: str) -> str:
        """A retry cannot fix this record: park it in the DLQ with its reason, at once."""
        dlq = self.services.dead_letters
        if dlq is None:
            raise exc  # no DLQ configured: the queue's redrive policy gets it there after retries
        dlq.dead_letter(body, error_code=exc.code, error=str(exc), message_id=message_id)
        return "dead_lettered"

    def _sync(self, request: SyncRequest, engine: Any = None) -> SyncOutcome | Exception:
        try:
            if engine is None:
                engine = self.services.engine(request.connection, owner=self.owner, deadline=self.deadline)
            outcome: SyncOutcome = engine.sync(request)
        except Exception as exc:  # classified below; the batch processor needs the exception re-raised
            return exc
        _log_synced(request, outcome)
        return outcome

    def _sync_many(self, engine: Any, requests: list[SyncRequest]) -> list[SyncOutcome | Exception]:
        try:
            by_key = engine.sync_many(requests)
        except Exception as exc:  # the engine failed as a whole: every record retries
            return [exc] * len(requests)
        results: list[SyncOutcome | Exception] = []
        for request in requests:
            result = by_key[request.entity_key]
            if isinstance(result, SyncOutcome):
                _log_synced(request, result)
            results.append(result)
        return results

    def _record_failure(
        self, request: SyncRequest, exc: Exception, receive_count: int, receipt_handle: str | None
    ) -> None:
        code = exc.code if isinstance(exc, CatalogSyncError) else type(exc).__name__
        logger.warning(
            "sync failed",
            extra={
                "entity": f"{request.entity_type}/{request.entity_id}",
                "error": code,
                "attempt": receive_count,
            },
        )
        if request.delivery_id:
            self.services.events.mark_failed(request.connection, request.delivery_id, f"{code}: {exc}")
        if receipt_handle and not isinstance(exc, PermanentError):
            self.services.queue.delay(
                receipt_handle, backoff_seconds(receive_count, self.services.settings.retry_backoff_base_s)
            )


def _log_synced(request: SyncRequest, outcome: SyncOutcome) -> None:
    logger.info(
        "synced",
        extra={
            "connection": request.connection,
            "entity": f"{request.entity_type}/{request.entity_id}",
            "action": outcome.action,
            "origin": request.origin,
        },
    )


def parsed_request(body: str) -> SyncRequest | None:
    """The record's request, or None when the body is malformed (which `handle` dead-letters)."""
    try:
        return _parse(body)
    except PermanentError:
        return None


def _parse(body: str) -> SyncRequest:
    try:
        return SyncRequest.model_validate_json(body)
    except ValidationError as exc:
        raise PermanentError(f"malformed sync request: {exc.errors()[0]['msg']}") from None
