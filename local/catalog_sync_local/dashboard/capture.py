"""The metrics of a local run of the demo, for `make dashboard`: EMF documents, one per line.

The handlers' own EMF output is what they print on stdout (as in Lambda, where CloudWatch reads it from
the log stream), so the run's stdout is captured while the demo's console writes to stderr. What AWS
itself would publish is observed on the local runtime and written in the same EMF shape, named by
logical id: per invocation AWS/Lambda Invocations, Errors, Throttles (never, locally) and Duration;
per webhook request AWS/ApiGateway Count, 4xx and 5xx; each second AWS/SQS
ApproximateNumberOfMessagesVisible of SyncQueue and its DLQ (moto keeps no message ages, so
ApproximateAgeOfOldestMessage has no local data). After the merchant's steps the scheduled jobs run once
each (pull, full sync, cleanup), so their widgets have data too.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog_sync_local.dashboard.template_dashboard import read_emf

METRICS_ON = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "false"}}
RECEIVER = "WebhookReceiverFunction"
SAMPLED_QUEUES = ("SyncQueue", "SyncDeadLetterQueue")
SAMPLE_EVERY_S = 1.0
JOBS = ("PullSyncFunction", "FullSyncFunction", "EventCleanupFunction")


def emf(namespace: str, dimensions: Mapping[str, str], values: Mapping[str, tuple[str, float]]) -> str:
    """One EMF document: metric name -> (unit, value), under one dimension set."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in values.items()],
                }
            ],
        },
        **dimensions,
        **{name: [value] for name, (_, value) in values.items()},
    }
    return json.dumps(document, separators=(",", ":"))


class RunObserver:
    """What AWS would publish about the local run (see the module doc), as EMF lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def record(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def started(self, box: Any) -> None:
        runtime = box.runtime
        invoke = runtime.invoke

        def observed(logical_id: str, event: Mapping[str, Any]) -> Any:
            began = time.monotonic()
            error = True
            status = 500
            try:
                result = invoke(logical_id, event)
                error = False
                if isinstance(result, Mapping):
                    status = int(result.get("statusCode", 200))
                return result
            finally:
                duration_ms = (time.monotonic() - began) * 1000
                self.record(
                    emf(
                        "AWS/Lambda",
                        {"FunctionName": logical_id},
                        {
                            "Invocations": ("Count", 1),
                            "Errors": ("Count", 1 if error else 0),
                            "Throttles": ("Count", 0),
                            "Duration": ("Milliseconds", duration_ms),
                        },
                    )
                )
                if logical_id == RECEIVER and "requestContext" in event:
                    self.record(
                        emf(
                            "AWS/ApiGateway",
                            {"ApiId": "HttpApi"},
                            {
                                "Count": ("Count", 1),
                                "4xx": ("Count", 1 if 400 <= status < 500 else 0),
                                "5xx": ("Count", 1 if status >= 500 else 0),
                            },
                        )
                    )

        runtime.invoke = observed  # the runtime's HTTP API, pollers and schedules all call self.invoke
        self._sampler = threading.Thread(target=self._sample, args=(box,), name="sqs-sampler", daemon=True)
        self._sampler.start()

    def _sample(self, box: Any) -> None:
        for _ in range(3600):  # bounded: an hour of samples at most
            for logical_id in SAMPLED_QUEUES:
                with contextlib.suppress(Exception):  # the sandbox may be closing
                    depth = box.queue_depth(logical_id)
                    self.record(
                        emf(
                            "AWS/SQS",
                            {"QueueName": logical_id},
                            {"ApproximateNumberOfMessagesVisible": ("Count", float(depth))},
                        )
                    )
            if self._stop.wait(SAMPLE_EVERY_S):
                return

    def finishing(self, box: Any) -> None:
        """Run each scheduled job once and let what it queued sync, then stop sampling."""
        for logical_id in JOBS:
            box.runtime.fire_schedule(logical_id)
        box.runtime.drain("FullSyncFunction", max_batches=20, max_seconds=60)  # its continuations
        box.settle(max_rounds=10, max_seconds=30)  # what the jobs queued
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(timeout=10)


def capture_demo(out: Path) -> int:
    """Run the demo with metrics on; write its EMF documents (handlers' and observed) to `out`.
    Returns the demo's exit code."""
    from rich.console import Console

    from catalog_sync_local.demo.scenario import run_demo

    observer = RunObserver()
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = run_demo(Console(file=sys.stderr, width=120), env_overrides=METRICS_ON, observer=observer)
    lines = stdout.getvalue().splitlines()
    handler_lines = [line for line in lines if line.startswith("{") and '"_aws"' in line]  # EMF, not logs
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join([*handler_lines, *observer.lines]) + "\n")
    print(f"{len(read_emf(out))} EMF documents -> {out}", file=sys.stderr)
    return code
