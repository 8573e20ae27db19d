"""`catalog-sync local start` under load, as a new user would try it: signed deliveries from 32 senders.

One `local start` (a subprocess, its own stack file) serves the run. First its idle receiver: warm-up
deliveries and one burst from every sender (the receiver's containers started), the queue left to
drain, then one sender, one delivery at a time (`load_idle_p50_ms`, the baseline). Then the load:
LOAD_DELIVERIES signed BigCommerce notifications, a fifth of them redeliveries of an earlier one (same
`webhook-id`, possibly in flight at the same moment), from SENDERS concurrent senders as fast as each
gets its answer, while the consumers sync what the receiver queued.

Figures: deliveries per second over the whole load, the receiver's p50 / p99 under load as ratios to
the idle p50, deliveries answered other than 200 (or not at all), and whether dedup was exact (1/0):
every unique delivery answered `accepted` once, every redelivery `duplicate`, and EventsTable holding
exactly one item per unique delivery.

Senders that each wait for their answer before sending again (a closed loop) queue at any server: by
Little's law a delivery takes SENDERS / throughput on average, whatever the server does. So the run
also reports that floor as a ratio to the idle p50 (`load_littles_law_p50_floor_ratio`: the p50 ratio
no receiver with this throughput can beat with 32 such senders on this machine), and a paced phase:
OPEN_DELIVERIES sent at half the measured throughput on a fixed schedule (an open loop, as providers
send independent events), with its p50 / p99 as ratios to the idle p50 (`load_paced_p99_ratio`): what a
delivery waits when the receiver is busy but not saturated, consumers syncing beside it.

The notifications name products store A does not have, so each sync is a read from the store and a
record (the consumer's cheapest path): the load is on the receiver, with consumers working beside it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

SECTION = "local start under load"
SENDERS = 32
LOAD_DELIVERIES = 1_200
DUPLICATE_SHARE = 0.2
IDLE_DELIVERIES = 60
OPEN_DELIVERIES = 300
WARM_UP_DELIVERIES = 20
PRODUCTS = 100
CONNECTION = "store-a-to-b"
START_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    delivery_id: str
    status: int  # 0: no answer (refused, reset, timed out)
    outcome: str  # the receiver's "status": accepted, duplicate, ...
    seconds: float


@dataclass(frozen=True)
class LocalStart:
    api_url: str
    aws_url: str
    events_table: str
    queue_url: str


def _delivery(product_id: int) -> Delivery:
    from catalog_sync_local.demo.sample_events import webhook_event

    delivery_id = f"msg_{uuid.uuid4().hex}"
    event = webhook_event(CONNECTION, "store/product/updated", product_id, delivery_id=delivery_id)
    return Delivery(delivery_id, dict(event["headers"]), str(event["body"]).encode())


def _send(session: requests.Session, url: str, delivery: Delivery) -> Answer:
    started = time.perf_counter()
    try:
        response = session.post(url, data=delivery.body, headers=delivery.headers, timeout=REQUEST_TIMEOUT_S)
    except requests.RequestException:
        return Answer(delivery.delivery_id, 0, "", time.perf_counter() - started)
    seconds = time.perf_counter() - started
    try:
        outcome = str(response.json().get("status", ""))
    except ValueError:
        outcome = ""
    return Answer(delivery.delivery_id, response.status_code, outcome, seconds)


def _load(url: str, deliveries: list[Delivery]) -> tuple[list[Answer], float]:
    """Every delivery sent by SENDERS threads, each taking the next one as soon as it has an answer."""
    answers: list[Answer] = []
    lock = threading.Lock()
    queue = iter(deliveries)

    def sender() -> None:
        with requests.Session() as session:
            for _ in range(len(deliveries)):
                with lock:
                    delivery = next(queue, None)
                if delivery is None:
                    return
                answer = _send(session, url, delivery)
                with lock:
                    answers.append(answer)

    threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S * len(deliveries))
    return answers, time.perf_counter() - started


def _paced(url: str, deliveries: list[Delivery], rate_per_s: float) -> list[Answer]:
    """Each delivery sent at its own time on a fixed schedule (i / rate), by whichever sender is free:
    the schedule does not wait for answers."""
    answers: list[Answer] = []
    lock = threading.Lock()
    queue = iter(enumerate(deliveries))
    started = time.perf_counter()

    def sender() -> None:
        with requests.Session() as session:
            for _ in range(len(deliveries)):
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                number, delivery = item
                time.sleep(max(0.0, started + number / rate_per_s - time.perf_counter()))
                answer = _send(session, url, delivery)
                with lock:
                    answers.append(answer)

    threads = [threading.Thread(target=sender, name=f"paced-{n}") for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S + len(deliveries) / rate_per_s)
    return answers


def _with_duplicates(rng: random.Random) -> tuple[list[Delivery], int]:
    """LOAD_DELIVERIES deliveries of which DUPLICATE_SHARE repeat an earlier one (the provider retrying)."""
    unique = round(LOAD_DELIVERIES * (1 - DUPLICATE_SHARE))
    originals = [_delivery(rng.randint(1, PRODUCTS)) for _ in range(unique)]
    deliveries = list(originals)
    for _ in range(LOAD_DELIVERIES - unique):
        position = rng.randint(1, len(deliveries))
        deliveries.insert(position, rng.choice(deliveries[:position]))
    return deliveries, unique


@contextmanager
def _local_start(folder: Path) -> Iterator[LocalStart]:
    """`catalog-sync local start` in a subprocess until the block ends (SIGTERM, then bounded waits)."""
    from catalog_sync_local.runtime import running_stack

    cli = Path(sys.executable).with_name("catalog-sync")
    env = {**os.environ, running_stack.STACK_FILE_VARIABLE: str(folder / "stack.json")}
    process = subprocess.Popen(  # noqa: S603 - this venv's own command
        [str(cli), "local", "start", "--port", "0", "--max-seconds", "1800"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    serving = threading.Event()

    def read_output() -> None:  # its stdout (the functions' logs too) read to the end, so it never blocks
        for line in process.stdout or ():
            if line.startswith("stack file"):
                serving.set()

    threading.Thread(target=read_output, name="local-start-output", daemon=True).start()
    try:
        if not serving.wait(START_TIMEOUT_S):
            raise RuntimeError(f"local start did not serve within {START_TIMEOUT_S:.0f} s")
        document: dict[str, Any] = json.loads((folder / "stack.json").read_text())
        resources = document["stack"]["resources"]
        yield LocalStart(
            api_url=document["api_url"],
            aws_url=document["aws"]["endpoint_url"],
            events_table=resources["EventsTable"],
            queue_url=resources["SyncQueue"],
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _aws(stack: LocalStart, service: str) -> Any:
    import boto3

    from catalog_sync_local.runtime.aws_backend import AwsBackend, applied

    with applied(AwsBackend(endpoint_url=stack.aws_url)):  # its endpoint and fake credentials
        return boto3.client(service)  # type: ignore[call-overload]


def _queue_settled(stack: LocalStart, max_seconds: float) -> None:
    sqs = _aws(stack, "sqs")
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if not any(int(value) for value in attributes.values()):
            return
        time.sleep(0.5)


def _event_count(stack: LocalStart) -> int:
    dynamodb = _aws(stack, "dynamodb")
    count, kwargs = 0, {"TableName": stack.events_table, "Select": "COUNT"}
    for _ in range(10_000):
        page = dynamodb.scan(**kwargs)
        count += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return count


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run() -> dict[str, float]:
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp, _local_start(Path(tmp)) as stack:
        url = f"{stack.api_url}/webhooks/{CONNECTION}"
        with requests.Session() as session:

            def one_by_one(count: int) -> list[Answer]:
                return [_send(session, url, _delivery(rng.randint(1, PRODUCTS))) for _ in range(count)]

            warm = one_by_one(WARM_UP_DELIVERIES)
            # One burst first, so the load meets warm containers: it measures what local start
            # sustains, not the ramp-up of its receiver containers (each cold start is ~0.5-2 s here).
            burst, _ = _load(url, [_delivery(rng.randint(1, PRODUCTS)) for _ in range(SENDERS * 2)])
            _queue_settled(stack, max_seconds=120)
            idle = one_by_one(IDLE_DELIVERIES)
        deliveries, unique = _with_duplicates(rng)
        answers, seconds = _load(url, deliveries)
        stored = _event_count(stack)
        _queue_settled(stack, max_seconds=300)
        rate = max(1.0, len(answers) / seconds / 2)
        paced = _paced(url, [_delivery(rng.randint(1, PRODUCTS)) for _ in range(OPEN_DELIVERIES)], rate)

    before = [*warm, *burst, *idle]
    idle_p50 = statistics.median(a.seconds for a in idle)
    load_s = [a.seconds for a in answers]
    outcomes = [a.outcome for a in answers]
    non_200 = sum(a.status != 200 for a in [*before, *answers]) + (LOAD_DELIVERIES - len(answers))
    accepted_once = len({a.delivery_id for a in answers if a.outcome == "accepted"}) == unique
    dedup_exact = (
        accepted_once
        and outcomes.count("accepted") == unique
        and outcomes.count("duplicate") == LOAD_DELIVERIES - unique
        and stored == unique + len(before)
    )
    return {
        "load_deliveries_per_second": round(len(answers) / seconds, 1),
        "load_idle_p50_ms": round(idle_p50 * 1000, 1),
        "load_p50_ms": round(statistics.median(load_s) * 1000, 1),
        "load_p99_ms": round(_percentile(load_s, 0.99) * 1000, 1),
        "load_p50_ratio": round(statistics.median(load_s) / idle_p50, 2),
        "load_p99_ratio": round(_percentile(load_s, 0.99) / idle_p50, 2),
        "load_littles_law_p50_floor_ratio": round(SENDERS / (len(answers) / seconds) / idle_p50, 2),
        "load_paced_rate_per_s": round(rate, 1),
        "load_paced_p50_ratio": round(statistics.median(a.seconds for a in paced) / idle_p50, 2),
        "load_paced_p99_ratio": round(_percentile([a.seconds for a in paced], 0.99) / idle_p50, 2),
        "load_paced_non_200": sum(a.status != 200 for a in paced) + (OPEN_DELIVERIES - len(paced)),
        "load_non_200": non_200,
        "load_dedup_exact": 1 if dedup_exact else 0,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
