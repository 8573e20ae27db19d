"""The service's CloudWatch metrics: every name it emits (CATALOG), and the emitter that gives each one
the connection it belongs to.

Each invocation's metrics are flushed as one EMF document per connection with two dimension sets,
{connection, service} (what the dashboard draws per connection) and {service} (what the alarms watch:
an alarm cannot enumerate connections, which live in the connections secret, not in the template).
Cardinality stays small: the connection is a configured name (the receiver says `unknown` for any other
path segment, so a stranger cannot mint dimensions) and the service is the stack's.

Switched off (POWERTOOLS_METRICS_DISABLED, as the demo and `make chaos` do), nothing is printed and
nothing accumulates across warm invocations.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

COUNT = "Count"
MILLISECONDS = "Milliseconds"
UNKNOWN_CONNECTION = "unknown"  # the receiver's label for a path that names no configured connection
SERVICE_WIDE = "-"  # the cleanup sweeper's metrics belong to no single connection
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class MetricSpec:
    unit: str
    meaning: str
    # Why no dashboard widget or alarm uses it; None = the dashboard or an alarm does (a test checks).
    unwatched_because: str | None = None


_OUTCOME = "the consumer's outcome for one record: "
CATALOG: dict[str, MetricSpec] = {
    # --- WebhookReceiverFunction: one per delivery -----------------------------------------------
    "Webhook_accepted": MetricSpec(COUNT, "a new delivery stored and queued (200)"),
    "Webhook_duplicate": MetricSpec(COUNT, "a redelivery recognised by its delivery id (200, not stored)"),
    "Webhook_ignored": MetricSpec(COUNT, "a signed event of a scope the connection does not sync (200)"),
    "Webhook_queue_deferred": MetricSpec(COUNT, "stored, but SyncQueue refused it: the sweeper queues it"),
    "Webhook_rejected": MetricSpec(COUNT, "a 4xx: bad signature, unknown connection, malformed body ..."),
    "Webhook_unavailable": MetricSpec(COUNT, "a 503: nothing could be stored; the provider retries"),
    "Webhook_misconfigured": MetricSpec(COUNT, "a 500: the connections secret or the stack is wrong"),
    "Webhook_failed": MetricSpec(COUNT, "a 500 from an unexpected error"),
    # --- SyncConsumerFunction: one per SQS record ------------------------------------------------
    "Sync_records": MetricSpec(COUNT, "records judged (the denominator of the failure rate)"),
    "Sync_created": MetricSpec(COUNT, _OUTCOME + "created at the destination"),
    "Sync_updated": MetricSpec(COUNT, _OUTCOME + "updated at the destination"),
    "Sync_restored": MetricSpec(COUNT, _OUTCOME + "a soft-deleted entity shown again"),
    "Sync_deleted": MetricSpec(COUNT, _OUTCOME + "soft-deleted at the destination"),
    "Sync_unchanged": MetricSpec(COUNT, _OUTCOME + "same content hash, no write"),
    "Sync_stale": MetricSpec(COUNT, _OUTCOME + "older than what was applied, skipped"),
    "Sync_absent": MetricSpec(COUNT, _OUTCOME + "a delete of something never synced"),
    "Sync_pending": MetricSpec(COUNT, _OUTCOME + "waits for a first write it depends on"),
    "Sync_echo": MetricSpec(COUNT, _OUTCOME + "two-way: our own write come back, nothing written"),
    "Sync_covered": MetricSpec(COUNT, _OUTCOME + "a complete sync leased after it was queued did it"),
    "Sync_dead_lettered": MetricSpec(COUNT, "a record no retry can fix, parked in the DLQ at once"),
    "Sync_deferred": MetricSpec(
        COUNT,
        "a record whose entity another worker held, or that the store throttled past the lease, queued again",
        unwatched_because="contention or the store's pacing, not a failure: the copy is judged again",
    ),
    "Sync_failed": MetricSpec(COUNT, "a record that failed this attempt and returns to the queue"),
    "Sync_lag": MetricSpec(MILLISECONDS, "source change -> destination write, for webhook changes"),
    "Conflicts_detected": MetricSpec(
        COUNT, "two-way: a field changed at both sides to different values (a rule settled it, or held)"
    ),
    "Destination_requests": MetricSpec(COUNT, "HTTP responses from the destination store"),
    "Destination_throttled": MetricSpec(COUNT, "429 responses from the destination store"),
    # --- scheduled jobs ---------------------------------------------------------------------------
    "Pull_enqueued": MetricSpec(COUNT, "entities the hourly pull found changed and queued"),
    "Pull_failed": MetricSpec(COUNT, "a connection's hourly pull that raised (the others still ran)"),
    "Conflicts_open": MetricSpec(
        COUNT, "two-way: open conflicts (held for `catalog-sync conflicts resolve`), a gauge the pull reads"
    ),
    "FullSync_completed": MetricSpec(COUNT, "a full sync run that reached its end"),
    "FullSync_failed": MetricSpec(COUNT, "a full sync run that stopped on an error"),
    "Events_requeued": MetricSpec(COUNT, "stored events the sweeper queued again (stuck in received)"),
    "Events_failed": MetricSpec(COUNT, "failed events the sweeper saw (still retrying or not)"),
    "Events_failed_exhausted": MetricSpec(COUNT, "failed events past their attempts"),
}


class ConnectionMetrics:
    """Collects one invocation's metrics per connection; `flush` prints them as EMF (use `flushing`)."""

    def __init__(
        self,
        namespace: str | None = None,
        service: str | None = None,
        emit: Callable[[str], None] = print,
    ) -> None:
        self.namespace = namespace
        self.service = service
        self.emit = emit
        self._values: dict[str, dict[str, list[float]]] = {}

    def add(self, connection: str, name: str, value: float = 1) -> None:
        """Count (or time) `name` for `connection`; a name outside CATALOG is a programming error."""
        if name not in CATALOG:
            raise KeyError(f"metric {name!r} is not in connection_metrics.CATALOG")
        values = self._values.setdefault(connection or UNKNOWN_CONNECTION, {}).setdefault(name, [])
        if CATALOG[name].unit == COUNT and values:
            values[0] += value  # counts add up: one value per invocation
        else:
            values.append(float(value))

    def flush(self) -> None:
        values, self._values = self._values, {}
        if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in _TRUE:
            return
        from aws_lambda_powertools.metrics import EphemeralMetrics

        for connection, metrics in values.items():
            document = EphemeralMetrics(namespace=self.namespace, service=self.service)
            if connection != SERVICE_WIDE:  # {connection, service} and {service}; else {service} alone
                document.add_dimension(name="connection", value=connection)
                document.add_dimensions(service=document.service or "")
            for name, samples in metrics.items():
                for sample in samples:
                    document.add_metric(name=name, unit=CATALOG[name].unit, value=sample)
            self.emit(_dumps(document.serialize_metric_set()))

    def flushing(self, handler: Handler) -> Handler:
        """Decorate a handler: whatever it returns or raises, its metrics are flushed (or dropped)."""

        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            finally:
                self.flush()

        return wrapper  # type: ignore[return-value]


class ResponseCounter:
    """A store's HTTP responses per connection, counted by a `requests` response hook (retries and 429s
    included, as the store's quota sees them) until drained into an invocation's metrics."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}

    def hook(self, connection: str) -> Callable[..., None]:
        def count(response: Any, *args: Any, **kwargs: Any) -> None:
            self._bump(connection, "Destination_requests")
            if getattr(response, "status_code", None) == 429:
                self._bump(connection, "Destination_throttled")

        return count

    def _bump(self, connection: str, name: str) -> None:
        self._counts[(connection, name)] = self._counts.get((connection, name), 0) + 1

    def drain_into(self, metrics: ConnectionMetrics) -> None:
        counts, self._counts = self._counts, {}
        for (connection, name), value in counts.items():
            metrics.add(connection, name, value)


def _dumps(document: Any) -> str:
    import json

    return json.dumps(document, separators=(",", ":"))
