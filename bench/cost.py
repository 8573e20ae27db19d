"""End to end cost per million source changes: receiver and consumer together, from what one run measured.

A change is one merchant edit in store A (a repricing of a product already in sync): one webhook through
API Gateway to the receiver, one record through SyncQueue to the consumer, one sync into store B. The
consumer's duration includes its waits for store B's rate limit (150 requests / 30 s): Lambda bills them.
Measured here, per change: the AWS requests each function makes (by operation, from botocore's
before-call hook), the invocations' durations (moto in process stands in for AWS round trips), the
consumer's batch sizes, and the bytes both functions log (the template's default log level).
Priced at us-east-1 on-demand list prices (2025, no free tier):

- API Gateway HTTP API $1.00 per million requests (first 300 M a month; $0.90 after);
- Lambda arm64 $0.20 per million requests and $0.0000133334 per GB-second, billed per ms;
- DynamoDB on-demand $0.625 per million write request units, $0.125 per million read request units
  (every item here is < 1 KB: one WRU per write; a strongly consistent read of < 4 KB is one RRU);
- SQS $0.40 per million requests: the receiver's send, and per batch one ReceiveMessage and one
  DeleteMessageBatch by Lambda's poller (the local poller deletes one by one; AWS's batches the deletes);
- Secrets Manager $0.05 per 10,000 API calls; CloudWatch Logs ingestion $0.50 per GB;
- X-Ray $5.00 per million traces, the default rule sampling about 5% of requests at volume.

Monthly fixed costs (the same at any volume): the connections secret ($0.40), the dashboard ($3.00), the
alarms ($0.10 each), the SNS topic's KMS key ($1.00), and the scheduled functions and pollers (pennies).
The floor is what the architecture cannot go under: API Gateway's and Lambda's per-request charges alone
(one API request and one receiver invocation per change, one consumer invocation per batch).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from bench import default_session

SECTION = "end-to-end cost"
CHANGES = 60

HTTP_API_REQUEST_USD = 1.00 / 1e6
LAMBDA_REQUEST_USD = 0.20 / 1e6
LAMBDA_GB_SECOND_USD = 0.0000133334
DYNAMODB_WRITE_USD = 0.625 / 1e6
DYNAMODB_READ_USD = 0.125 / 1e6
SQS_REQUEST_USD = 0.40 / 1e6
SECRETS_CALL_USD = 0.05 / 10_000
LOG_GB_USD = 0.50
XRAY_TRACE_USD = 5.00 / 1e6
XRAY_SAMPLED = 0.05
FIXED_MONTHLY_USD = 0.40 + 3.00 + 1.00 + 0.10 * 8 + 0.50  # secret, dashboard, KMS key, alarms, schedules
VOLUMES = {"10k": 10_000, "1m": 1_000_000, "100m": 100_000_000}

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
DYNAMODB_READS = {"GetItem", "Query", "Scan"}
BATCH_GET_ITEMS = 10  # the consumer's BatchGetItem names a batch's entities: at most its 10 records


def dynamodb_reads(ops: Counter[str]) -> int:
    """Read requests as DynamoDB bills them (one per item of a BatchGetItem; an upper bound)."""
    return sum(n for op, n in ops.items() if op in DYNAMODB_READS) + ops["BatchGetItem"] * BATCH_GET_ITEMS


SQS_CALLS = {"SendMessage", "SendMessageBatch", "ChangeMessageVisibility"}


class Phase:
    """What one function's invocations cost: AWS operations, billed ms per invocation, log bytes."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_gb = memory_mb / 1024
        self.operations: Counter[str] = Counter()
        self.billed_ms: list[int] = []
        self.log_bytes = 0

    def lambda_usd(self) -> float:
        seconds = sum(self.billed_ms) / 1000
        return len(self.billed_ms) * LAMBDA_REQUEST_USD + seconds * self.memory_gb * LAMBDA_GB_SECOND_USD

    def aws_usd(self) -> float:
        ops = self.operations
        writes = sum(n for op, n in ops.items() if op in DYNAMODB_WRITES)
        writes += ops["BatchWriteItem"] * 25  # an upper bound: a full batch
        reads = dynamodb_reads(ops)
        sqs = sum(
            n for op, n in ops.items() if op in {"SendMessage", "SendMessageBatch", "ChangeMessageVisibility"}
        )
        return (
            writes * DYNAMODB_WRITE_USD
            + reads * DYNAMODB_READ_USD
            + sqs * SQS_REQUEST_USD
            + ops["GetSecretValue"] * SECRETS_CALL_USD
            + self.log_bytes / 1e9 * LOG_GB_USD
        )


@contextmanager
def _counted_logs(phase: Phase) -> Iterator[None]:
    """Count what the process writes to stdout and stderr (the function's log stream in Lambda)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            phase.log_bytes += sink.seek(0, os.SEEK_END)


def _timed(phase: Phase, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    with _counted_logs(phase):
        result = call()
    phase.billed_ms.append(max(1, int((time.perf_counter() - started) * 1000 + 0.999)))
    return result


def run() -> dict[str, float]:

    from catalog_sync import services
    from catalog_sync_local.demo.sample_events import webhook_event
    from catalog_sync_local.runtime.sandbox import Sandbox

    with Sandbox(register_webhooks=False) as box:
        runtime, stack = box.runtime, box.stack
        store = box.source_store("store-a-to-b")
        ids = [
            store.create_product({"name": f"Cost {n}", "sku": f"COST-{n}", "price": 1 + n, "weight": 1})["id"]
            for n in range(CHANGES)
        ]
        receiver = Phase(stack.functions["WebhookReceiverFunction"].memory_mb)
        consumer = Phase(stack.functions["SyncConsumerFunction"].memory_mb)
        phase: list[Phase] = [receiver]
        session = default_session()
        services.reset()
        # The products are in sync first, and both functions warm (a cold start is amortised over
        # thousands of invocations); then each is repriced once: the changes measured.
        for pid in ids:
            runtime.invoke(
                "WebhookReceiverFunction", webhook_event("store-a-to-b", "store/product/created", pid)
            )
        runtime.drain(max_seconds=300)
        for pid in ids:
            store.update_product(pid, {"price": 99})
        session.events.register(
            "before-call", lambda model, **_: phase[0].operations.update([model.name]), unique_id="cost"
        )
        try:
            for pid in ids:
                event = webhook_event("store-a-to-b", "store/product/updated", pid)
                answer = _timed(receiver, partial(runtime.invoke, "WebhookReceiverFunction", event))
                assert answer["statusCode"] == 200, answer
            phase[0] = consumer
            spec = stack.functions["SyncConsumerFunction"]
            [source] = spec.sqs_sources
            sizes: list[int] = []
            for _ in range(CHANGES):
                messages = runtime.receive_batch(source, batching_window=False)
                if not messages:
                    break
                sizes.append(len(messages))
                report = _timed(consumer, partial(runtime.deliver_batch, spec, source, messages))
                assert report.failed == 0, report
        finally:
            session.events.unregister("before-call", unique_id="cost")
    # The poller's own requests, as AWS makes them: one receive and one batch delete per batch.
    for op in ("ReceiveMessage", "DeleteMessage"):
        consumer.operations.pop(op, None)
    batch = statistics.mean(sizes)
    per_change = (
        HTTP_API_REQUEST_USD
        + (receiver.lambda_usd() + receiver.aws_usd()) / CHANGES
        + (consumer.lambda_usd() + consumer.aws_usd()) / CHANGES
        + 2 * SQS_REQUEST_USD / batch
        + XRAY_SAMPLED * XRAY_TRACE_USD * (1 + 1 / batch)
    )
    floor = HTTP_API_REQUEST_USD + LAMBDA_REQUEST_USD + LAMBDA_REQUEST_USD / batch
    figures = {
        "cost_usd_per_million_changes": round(per_change * 1e6, 3),
        "cost_floor_usd_per_million_changes": round(floor * 1e6, 3),
        "cost_to_floor_ratio": round(per_change / floor, 3),
        "consumer_batch_size_mean": round(batch, 2),
        "dynamodb_writes_per_change": round(
            sum(n for p in (receiver, consumer) for op, n in p.operations.items() if op in DYNAMODB_WRITES)
            / CHANGES,
            2,
        ),
        "dynamodb_reads_per_change": round(
            sum(dynamodb_reads(p.operations) for p in (receiver, consumer)) / CHANGES, 2
        ),
        "log_bytes_per_change": round((receiver.log_bytes + consumer.log_bytes) / CHANGES),
        "receiver_billed_ms_median": statistics.median(receiver.billed_ms),
        "consumer_billed_ms_per_change": round(sum(consumer.billed_ms) / CHANGES, 2),
    }
    for label, volume in VOLUMES.items():
        monthly = FIXED_MONTHLY_USD + per_change * volume
        figures[f"cost_usd_per_month_at_{label}_changes"] = round(monthly, 2)
    return figures
