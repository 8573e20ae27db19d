"""Webhook receiver: time per warm webhook against a naive receiver, cold import against boto3, cold start
against the naive receiver's, AWS calls per accepted webhook, and an estimated cost per million
webhooks - all measured in one run.

The cold start is a whole container's: a fresh worker process of the local runtime (as `local start`
runs them) starting, importing the handler and answering its first webhook against the moto server,
timed from the caller's side; the naive receiver runs in the same kind of container, turn and turn
about with ours (`cold_start_ratio`, with both medians in ms).

The naive receiver (`naive_handler`) makes the same two AWS calls as ours (PutItem of the raw body,
SendMessage) with plain boto3 clients created at import, and checks nothing: no signature, no
validation, no dedup condition, no logging. Both run warm through the same runtime plumbing
(environment, context), so `receiver_time_ratio` is what verifying, validating and logging cost.

Prices assumed (us-east-1, on-demand, list prices as of 2025):
- Lambda arm64: $0.0000133334 per GB-second, $0.20 per million requests;
- API Gateway HTTP API: $1.00 per million requests (first 300 M/month);
- DynamoDB on-demand: $0.625 per million write request units (one PutItem of a < 1 KB event = 1 WRU);
- SQS standard: $0.40 per million requests (one SendMessage, plus the consumer's receive and delete).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import default_session

SECTION = "webhook receiver"
REPO = Path(__file__).resolve().parents[1]
WARM_CALLS = 200
IMPORT_RUNS = 5
COLD_START_RUNS = 5

LAMBDA_GB_SECOND_USD = 0.0000133334
LAMBDA_REQUEST_USD = 0.20 / 1e6
HTTP_API_REQUEST_USD = 1.00 / 1e6
DYNAMODB_WRITE_USD = 0.625 / 1e6
SQS_REQUEST_USD = 0.40 / 1e6
SQS_REQUESTS_PER_WEBHOOK = 3  # send here; receive and delete by the consumer's event source mapping


class NaiveReceiver:
    """Store and queue the raw body, answer 200: the least a durable receiver can do."""

    def __init__(self) -> None:
        import os

        import boto3

        self.table, self.queue = os.environ["EVENTS_TABLE_NAME"], os.environ["SYNC_QUEUE_URL"]
        self.dynamodb, self.sqs = boto3.client("dynamodb"), boto3.client("sqs")

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = event.get("body") or ""
        connection = (event.get("pathParameters") or {}).get("connection", "")
        item = {"pk": {"S": connection}, "sk": {"S": uuid.uuid4().hex}, "body": {"S": body}}
        self.dynamodb.put_item(TableName=self.table, Item=item)
        self.sqs.send_message(QueueUrl=self.queue, MessageBody=body)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}


_naive: NaiveReceiver | None = None


def naive_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The naive receiver as a handler file for a container (`receiver.naive_handler`, code dir bench/):
    its clients are made by the first invocation, which the cold start includes."""
    global _naive  # noqa: PLW0603 - module state of one container, like the clients of ours
    if _naive is None:
        _naive = NaiveReceiver()
    return _naive.handler(event, context)


def _median_cold_starts_ms() -> tuple[float, float]:
    """Median cold start (process start, import, first webhook answered) of ours and the naive one."""
    from dataclasses import replace

    from catalog_sync_local.demo.sample_events import webhook_event
    from catalog_sync_local.runtime.containers import ContainerPool
    from catalog_sync_local.runtime.process_runtime import ProcessRuntime
    from catalog_sync_local.runtime.sandbox import Sandbox

    quiet = {"LogLevel": "ERROR"}
    with Sandbox(register_webhooks=False, parameter_overrides=quiet, serve_aws=True, processes=True) as box:
        assert isinstance(box.runtime, ProcessRuntime)
        receiver = box.stack.functions["WebhookReceiverFunction"]
        ours = replace(box.runtime.container_config(receiver), quiet=True)  # its metrics lines: not ours
        naive = replace(ours, code_dir=Path(__file__).parent, layer_dirs=(), handler="receiver.naive_handler")
        times: dict[str, list[float]] = {"ours": [], "naive": []}
        for n in range(COLD_START_RUNS * 2):
            name, config = ("ours", ours) if n % 2 == 0 else ("naive", naive)
            event = webhook_event("store-a-to-b", "store/product/updated", n + 1)
            pool = ContainerPool(config, max_containers=1, wait_s=30)
            try:
                started = time.perf_counter()
                answer = pool.invoke(event)
                times[name].append(time.perf_counter() - started)
            finally:
                pool.close()
            assert answer.result["statusCode"] == 200, answer.result
    return statistics.median(times["ours"]) * 1000, statistics.median(times["naive"]) * 1000


def _median_import_ms(statement: str) -> float:
    code = f"import sys, time; sys.path.insert(0, {str(REPO / 'functions' / 'webhook_receiver')!r}); " + (
        f"t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)  # noqa: S603
        for _ in range(IMPORT_RUNS)
    ]
    return statistics.median(runs)


def run() -> dict[str, float]:

    from catalog_sync import services
    from catalog_sync.signatures import sign_standard_webhooks
    from catalog_sync_local.demo.sample_events import (
        bigcommerce_notification,
        local_signing_secret,
        webhook_event,
    )
    from catalog_sync_local.runtime.lambda_container import LambdaContextStub
    from catalog_sync_local.runtime.sandbox import Sandbox

    del sign_standard_webhooks, bigcommerce_notification, local_signing_secret
    with Sandbox(register_webhooks=False, parameter_overrides={"LogLevel": "ERROR"}) as box:
        spec = box.stack.functions["WebhookReceiverFunction"]
        calls: list[str] = []
        session = default_session()
        from catalog_sync_local.runtime.local_runtime import function_environment

        with function_environment(spec):  # created before the counting hook: clients copy the hooks
            naive = NaiveReceiver()
        session.events.register("before-call", lambda model, **_: calls.append(model.name), unique_id="bench")
        services.reset()
        events = [
            webhook_event(
                "store-a-to-b", "store/product/updated", i + 1, delivery_id=f"msg_{uuid.uuid4().hex}"
            )
            for i in range(WARM_CALLS + 1)
        ]
        box.runtime.invoke("WebhookReceiverFunction", events[0])  # cold: imports, clients, connections
        calls.clear()
        with function_environment(spec):
            naive.handler(dict(events[0]), None)

        def naive_call(event: dict[str, Any]) -> None:
            with function_environment(spec):
                context = LambdaContextStub(spec.function_name, spec.memory_mb, spec.timeout_s)
                naive.handler(dict(event), context)

        # Turn and turn about, so both see the same table size and queue depth (moto slows as they grow).
        ours: list[float] = []
        baseline: list[float] = []
        for event in events[1:]:
            started = time.perf_counter()
            response = box.runtime.invoke("WebhookReceiverFunction", event)
            ours.append(time.perf_counter() - started)
            assert response["statusCode"] == 200 and json.loads(response["body"])["status"] == "accepted"
            started = time.perf_counter()
            naive_call(event)
            baseline.append(time.perf_counter() - started)
        session.events.unregister("before-call", unique_id="bench")
        aws_calls_per_webhook = len(calls) / WARM_CALLS
        memory_gb = spec.memory_mb / 1024

    ours_s, baseline_s = statistics.median(ours), statistics.median(baseline)
    cold_start_ms, naive_cold_start_ms = _median_cold_starts_ms()
    receiver_import_ms = _median_import_ms("import app")
    boto3_import_ms = _median_import_ms("import boto3")
    # Lambda bills duration per ms (rounded up); in-process moto time stands in for the AWS round trips.
    billed_s = max(1.0, round(ours_s * 1000 + 0.5)) / 1000
    cost_per_webhook = (
        billed_s * memory_gb * LAMBDA_GB_SECOND_USD
        + LAMBDA_REQUEST_USD
        + HTTP_API_REQUEST_USD
        + DYNAMODB_WRITE_USD
        + SQS_REQUESTS_PER_WEBHOOK * SQS_REQUEST_USD
    )
    return {
        "receiver_time_ratio": round(ours_s / baseline_s, 2),
        "receiver_warm_ms": round(ours_s * 1000, 3),
        "naive_receiver_warm_ms": round(baseline_s * 1000, 3),
        "cold_import_ratio": round(receiver_import_ms / boto3_import_ms, 3),
        "receiver_import_ms": round(receiver_import_ms, 1),
        "cold_start_ratio": round(cold_start_ms / naive_cold_start_ms, 3),
        "receiver_cold_start_ms": round(cold_start_ms, 1),
        "naive_receiver_cold_start_ms": round(naive_cold_start_ms, 1),
        "receiver_aws_calls_per_webhook": aws_calls_per_webhook,
        "cost_usd_per_million_webhooks": round(cost_per_webhook * 1e6, 3),
    }
