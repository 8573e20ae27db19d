"""StatusApiFunction: GET /status/{connection} -> what `catalog-sync status` reports, as JSON.

The route sits behind IAM authorization (template.yaml: the HTTP API's AWS_IAM authorizer): API Gateway
refuses an unsigned or wrongly signed call with 403 before this function runs, so a caller needs
`execute-api:Invoke` on the route. The webhook route stays open and signature-checked. The report is
built by catalog_sync.sync_status, the same function the CLI uses (with a two-way connection's open
conflicts); this handler only reads.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from catalog_sync.errors import CatalogSyncError, RequestRejected, RouteNotFound
from catalog_sync.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"catalog_sync"})

QUEUE_URLS = {  # logical id -> the environment variable holding its URL
    "SyncQueue": "SYNC_QUEUE_URL",
    "SyncDeadLetterQueue": "SYNC_DLQ_URL",
    "FullSyncContinuationQueue": "FULL_SYNC_CONTINUATION_QUEUE_URL",
}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return _response(200, _report(event))
    except Exception as exc:  # every outcome is a JSON response
        return _error_response(exc)


def _report(event: dict[str, Any]) -> dict[str, Any]:
    from catalog_sync.store.progress import ProgressStore
    from catalog_sync.sync_status import TableStatusSources, status_report

    connection = (event.get("pathParameters") or {}).get("connection")
    if not connection:
        raise RouteNotFound("no such route; status is at GET /status/{connection}")
    services = get_services()
    configured = services.connections().get(connection)  # UnknownConnection -> 404
    sources = TableStatusSources(
        services.state,
        services.events,
        ProgressStore(services.settings.state_table, services.client("dynamodb")),
        now_ms=lambda: int(time.time() * 1000),
    )
    sqs = services.client("sqs")

    def depth(logical_id: str) -> int | None:
        url = os.environ.get(QUEUE_URLS[logical_id])
        if not url:
            return None
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attrs[name]) for name in names)

    # A two-way connection's open conflicts (one Query on SyncStateTable); a one-way one has none.
    open_conflicts = services.conflicts.list(connection) if configured.two_way else None
    report = status_report(connection, sources, depth, open_conflicts=open_conflicts)
    logger.info("status", extra={"connection": connection, "in_sync": report["in_sync"]})
    return report


def _error_response(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, RequestRejected):
        return _response(exc.status, {"error": exc.code, "message": str(exc)})
    code = exc.code if isinstance(exc, CatalogSyncError) else "internal_error"
    logger.exception("status failed", extra={"error": code})
    return _response(500, {"error": code, "message": "the status could not be read"})


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, default=str),
    }
