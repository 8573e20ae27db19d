"""PullSyncFunction (hourly): enqueue what changed at each connection's source.

Per connection, from its `schedule` settings: cursor mode (BigCommerce: modified-since keyset paging,
checkpointed per page) or audit mode (Pixlpay, or `pull_mode: audit`: a hash sweep against a snapshot).
One connection's failure is logged and reported; the others still run. `{"connection": "x"}` pulls one.
Every two-way connection's open conflicts are counted too (the `Conflicts_open` gauge, hourly).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_sync.connection_metrics import ConnectionMetrics
from catalog_sync.connections import MedusaEndpoint
from catalog_sync.connectors.medusa import MedusaClient
from catalog_sync.jobs import audit_pull, pull_changes, time_left_from
from catalog_sync.jobs.medusa_pull import pull_medusa_changes
from catalog_sync.jobs.sources import cursor_source, destination_cursor_source, listing_pages, pull_mode
from catalog_sync.services import Services, get_services
from catalog_sync.store.snapshots import SnapshotStore

logger = Logger()
# The layer logs through std logging: give it this logger's JSON format, level and context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"catalog_sync"})
metrics = ConnectionMetrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.flushing
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = get_services()
    time_left = time_left_from(time.monotonic() + context.get_remaining_time_in_millis() / 1000)
    only = event.get("connection")
    reports: list[dict[str, Any]] = []
    for name, connection in services.connections().connections.items():
        if only and name != only:
            continue
        if connection.two_way:
            _count_open_conflicts(services, name)
        if not connection.schedule.pull_enabled:
            reports.append({"connection": name, "skipped": "pull disabled"})
            continue
        schedule = connection.schedule
        overlap = (
            services.settings.pull_overlap_s if schedule.overlap_seconds is None else schedule.overlap_seconds
        )
        try:
            if pull_mode(connection) == "cursor":
                report = pull_changes(
                    name,
                    cursor_source(connection),
                    services.queue,
                    services.state,
                    page_size=schedule.page_size,
                    overlap_s=overlap,
                    now=datetime.now(UTC),
                    time_left_s=time_left,
                )
            else:
                snapshots = SnapshotStore(services.settings.state_table, services.client("dynamodb"))
                report = audit_pull(
                    name,
                    listing_pages(connection, schedule.page_size),
                    snapshots,
                    services.queue,
                    services.state,
                    now=datetime.now(UTC),
                    time_left_s=time_left,
                    tombstoned_ids=partial(snapshots.tombstoned_entity_ids, name, "product"),
                )
            done = [report]
            destination = destination_cursor_source(connection)
            if isinstance(connection.destination, MedusaEndpoint) and connection.two_way:
                done.append(
                    pull_medusa_changes(
                        name,
                        MedusaClient.for_endpoint(connection.destination),
                        services.queue,
                        services.state,
                        overlap_s=overlap,
                        now=datetime.now(UTC),
                        time_left_s=time_left,
                    )
                )
            elif destination is not None:  # a two-way connection's other side: the net for its webhooks
                done.append(
                    pull_changes(
                        name,
                        destination,
                        services.queue,
                        services.state,
                        page_size=schedule.page_size,
                        overlap_s=overlap,
                        now=datetime.now(UTC),
                        time_left_s=time_left,
                        side="destination",
                    )
                )
        except Exception as exc:  # one connection's failure must not stop the others' pulls
            logger.exception("pull failed", extra={"connection": name})
            metrics.add(name, "Pull_failed")
            reports.append({"connection": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        for each in done:
            metrics.add(name, "Pull_enqueued", each.enqueued)
            logger.info("pull", extra=asdict(each))
            reports.append(asdict(each))
    return {"job": "pull", "connections": reports}


def _count_open_conflicts(services: Services, name: str) -> None:
    """The Conflicts_open gauge of a two-way connection (OpenConflictsAlarm watches it)."""
    try:
        metrics.add(name, "Conflicts_open", services.conflicts.count_open(name))
    except Exception:  # the gauge must not stop the pulls; a missing datapoint is not an alarm
        logger.exception("open conflicts not counted", extra={"connection": name})
