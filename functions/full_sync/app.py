"""FullSyncFunction (daily): resumable hash sweeps of each connection's source (jobs.full_sync).

Triggers: the daily schedule (every connection with `full_sync_enabled`), a manual invoke
`{"connection": "x", "restart": false}` (the `catalog-sync full-sync` command), and continuation
messages `{"connection", "run_id", "step"}` from FullSyncContinuationQueue (SQS records).

Continuation design: when its time runs short, the job checkpoints and this handler puts a message on
FullSyncContinuationQueue, whose event source mapping (batch size 1) invokes this function again. Chosen
over an async self-invoke and over Step Functions because: the message survives a crash (SQS redelivers
it after the visibility timeout, and the step check makes a duplicate harmless), the pending continuation
is visible as queue depth, it needs no lambda:InvokeFunction grant on itself, and the local runtime
already polls SQS event sources - so the same path runs in tests, `catalog-sync full-sync` and AWS.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_sync.connection_metrics import ConnectionMetrics
from catalog_sync.jobs import FullSyncReport, full_sync, time_left_from
from catalog_sync.jobs.sources import full_sync_sweeps
from catalog_sync.services import Services, get_services
from catalog_sync.store.progress import ContinuationQueue, ProgressStore
from catalog_sync.store.snapshots import SnapshotStore

logger = Logger()
# The layer logs through std logging: give it this logger's JSON format, level and context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"catalog_sync"})
metrics = ConnectionMetrics()
ERROR_RETRY_DELAY_S = 60
# A run's end, per connection: the "full sync not completed for 26 h" alarm watches FullSync_completed.
OUTCOME_METRICS = {"done": "FullSync_completed", "failed": "FullSync_failed"}


@logger.inject_lambda_context(clear_state=True)
@metrics.flushing
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = get_services()
    time_left = time_left_from(time.monotonic() + context.get_remaining_time_in_millis() / 1000)
    reports = [asdict(_run(services, request, time_left)) for request in _requests(services, event)]
    return {"job": "full_sync", "connections": reports}


def _requests(services: Services, event: dict[str, Any]) -> list[dict[str, Any]]:
    if "Records" in event:
        return [json.loads(record["body"]) for record in event["Records"]]
    if event.get("connection"):
        return [{"connection": event["connection"], "restart": bool(event.get("restart", False))}]
    return [
        {"connection": name}
        for name, connection in services.connections().connections.items()
        if connection.schedule.full_sync_enabled
    ]


def _run(services: Services, request: dict[str, Any], time_left: Any) -> FullSyncReport:
    name = str(request["connection"])
    connection = services.connections().get(name)
    dynamodb = services.client("dynamodb")
    snapshots = SnapshotStore(services.settings.state_table, dynamodb)
    report = full_sync(
        name,
        full_sync_sweeps(
            connection,
            services.settings.full_sync_page_size,
            partial(snapshots.known_entity_ids, name),
            partial(snapshots.tombstoned_entity_ids, name),
        ),
        snapshots,
        services.queue,
        ProgressStore(services.settings.state_table, dynamodb),
        now=datetime.now(UTC),
        time_left_s=time_left,
        run_id=request.get("run_id"),
        step=request.get("step"),
        restart=bool(request.get("restart", False)),
        min_time_s=float(os.environ.get("FULL_SYNC_MIN_TIME_SECONDS", "60")),
    )
    if report.outcome == "continue" and report.run_id:
        continuation = ContinuationQueue(
            os.environ["FULL_SYNC_CONTINUATION_QUEUE_URL"], services.client("sqs")
        )
        continuation.continue_run(
            name, report.run_id, report.step, delay_s=ERROR_RETRY_DELAY_S if report.reason else 0
        )
    if report.outcome in OUTCOME_METRICS:
        metrics.add(name, OUTCOME_METRICS[report.outcome])
    logger.info("full sync", extra=asdict(report))
    return report
