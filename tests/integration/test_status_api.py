"""GET /status/{connection}: the status report over the HTTP API, behind IAM authorization. The local
runtime refuses what API Gateway's AWS_IAM authorizer refuses (403) and lets SigV4-signed calls through."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from catalog_sync_local.demo.sample_events import webhook_event
from catalog_sync_local.runtime.iam_auth import refusal
from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION

HOST = "127.0.0.1:3000"
LOCAL_KEYS = {"testing": "testing"}  # the local stack's fake identity (runtime.aws_backend.FAKE_AWS_ENV)


def signed(path: str, *, secret: str = "testing", service: str = "execute-api") -> dict[str, str]:  # noqa: S107
    """Headers of a GET signed as the AWS CLI or awscurl signs it (SigV4, the local fake identity)."""
    request = AWSRequest(method="GET", url=f"http://{HOST}{path}", headers={"host": HOST})
    SigV4Auth(Credentials("testing", secret, "testing"), service, "us-east-1").add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


def get(box: Sandbox, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = box.runtime.http("GET", path, headers=headers)
    return result.status, json.loads(result.body)


def test_an_unsigned_or_badly_signed_status_call_is_refused_with_403(sandbox: Sandbox) -> None:
    path = f"/status/{CONNECTION}"
    for headers in (
        {"host": HOST},
        signed(path, secret="not-the-secret"),
        signed(path, service="s3"),
        signed("/status/another-connection"),  # signed for another path
    ):
        assert get(sandbox, path, headers) == (403, {"message": "Forbidden"})


def test_a_signed_status_call_answers_what_catalog_sync_status_reports(sandbox: Sandbox) -> None:
    store = sandbox.source_store(CONNECTION)
    product = store.create_product({"name": "Mug", "sku": "MUG-1", "price": 9.5, "weight": 1})
    sandbox.runtime.invoke(
        "WebhookReceiverFunction", webhook_event(CONNECTION, "store/product/created", product["id"])
    )
    sandbox.runtime.drain()
    path = f"/status/{CONNECTION}"

    status, report = get(sandbox, path, signed(path))

    assert status == 200
    assert report["connection"] == CONNECTION and report["in_sync"] is True
    assert report["entities"]["product"] == {"in_sync": 1, "not_in_sync": 0, "deleted": 0}
    assert report["queues"] == {"SyncQueue": 0, "SyncDeadLetterQueue": 0, "FullSyncContinuationQueue": 0}


def test_a_signed_call_for_an_unknown_connection_is_a_404_naming_it(sandbox: Sandbox) -> None:
    path = "/status/nope"

    status, body = get(sandbox, path, signed(path))

    assert status == 404
    assert body["error"] == "unknown_connection" and "nope" in body["message"]


def test_the_webhook_route_stays_open_to_unsigned_providers(sandbox: Sandbox) -> None:
    event = webhook_event(CONNECTION, "store/product/updated", 7)
    headers = dict(event["headers"])

    result = sandbox.runtime.http(
        "POST", f"/webhooks/{CONNECTION}", headers=headers, body=event["body"].encode()
    )

    assert result.status == 200


def test_a_signature_older_than_15_minutes_is_refused() -> None:
    headers = signed("/status/x")
    later = datetime.now(UTC) + timedelta(minutes=16)

    assert refusal("GET", "/status/x", headers, b"", secrets=LOCAL_KEYS) is None
    assert refusal("GET", "/status/x", headers, b"", secrets=LOCAL_KEYS, now=later) == (
        "signature expired or not yet valid"
    )
