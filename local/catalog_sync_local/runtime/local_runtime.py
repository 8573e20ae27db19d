"""Run the template's handlers in process against the local (moto) stack.

What API Gateway, the SQS event source mapping and EventBridge do in AWS, done here for one machine:

- HTTP requests become HTTP API payload v2.0 events as API Gateway builds them: lower-cased headers
  (repeated ones joined by commas), cookies split out of the Cookie header, `queryStringParameters`
  (repeated keys joined by commas), the raw body, base64-encoded with `isBase64Encoded` unless its
  content type is text.
- Queue messages become SQS batch events with the event source mapping's settings read back from moto:
  up to `BatchSize` records, gathered for up to `MaximumBatchingWindowInSeconds` after the first one
  (pollers always; `drain()` on request), partial batch failures honoured (only reported records stay
  on the queue), visibility timeouts and the redrive to the DLQ left to SQS itself (moto).
- Schedules become EventBridge scheduled events, fired on demand (`fire_schedule`) or on their own rate
  (`catalog_sync_local.runtime.scheduler`).

Handlers are the deployable files, imported from the template's CodeUri, with the template's environment
applied. Concurrency: every invocation applies its function's environment to this process's
`os.environ`, so invocations here run one at a time (`local invoke`, the tests, the demo, anything under
`mock_aws`). `catalog_sync_local.runtime.process_runtime` runs them side by side in worker processes instead.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from catalog_sync_local.runtime.lambda_container import ACCOUNT_ID, LambdaContextStub
from catalog_sync_local.runtime.stack import FunctionSpec, HttpRoute, LocalStack, SqsSource

POLL_SLEEP_S = 0.05  # between empty receives while a batching window is open
# An idle poller long-polls (as Lambda's do, for up to 20 s) for this long: cheap for moto (it waits on
# the queue's condition), and short enough that stopping the pollers stays quick.
LONG_POLL_S = 1


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class DrainReport:
    batches: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    batch_sizes: list[int] = field(default_factory=list)

    def add(self, other: DrainReport) -> None:
        self.batches += other.batches
        self.received += other.received
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.batch_sizes.extend(other.batch_sizes)


class LocalRuntime:
    """`env_overrides` works like `sam local invoke --env-vars`: {"Parameters": {...}} applies to every
    function, {"<LogicalId>": {...}} to one; only variables the template declares are overridden."""

    def __init__(
        self, stack: LocalStack, *, env_overrides: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self.stack = stack
        self.env_overrides = dict(env_overrides or {})
        self._modules: dict[str, ModuleType] = {}
        # One invocation at a time: each applies its function's environment to this process.
        self._lock = threading.RLock()

    # --- invoke -------------------------------------------------------------------------------------

    def invoke(self, logical_id: str, event: Mapping[str, Any]) -> Any:
        """Like `sam local invoke`: run the function's handler once with its template environment."""
        spec = self._function(logical_id)
        context = LambdaContextStub(
            function_name=spec.function_name,
            memory_limit_in_mb=spec.memory_mb,
            timeout_s=spec.timeout_s,
            region=self.stack.region,
        )
        with self._lock, function_environment(spec, self._environment(spec)):
            handler = self._handler(spec)
            return handler(dict(event), context)

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        env = dict(spec.environment)
        for scope in ("Parameters", spec.logical_id):
            env.update({k: v for k, v in self.env_overrides.get(scope, {}).items() if k in env})
        return env

    def _function(self, logical_id: str) -> FunctionSpec:
        try:
            return self.stack.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.stack.functions))
            raise KeyError(f"no function '{logical_id}' in the template (functions: {known})") from None

    def _handler(self, spec: FunctionSpec) -> Callable[..., Any]:
        module_file, _, attr = spec.handler.rpartition(".")
        if spec.logical_id not in self._modules:
            self._modules[spec.logical_id] = _import_file(
                f"catalog_sync_fn_{spec.logical_id}", spec.code_dir / f"{module_file.replace('.', '/')}.py"
            )
        handler: Callable[..., Any] = getattr(self._modules[spec.logical_id], attr)
        return handler

    # --- HTTP API -----------------------------------------------------------------------------------

    def http(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> HttpResult:
        """One request through the template's HTTP API routes, as API Gateway (payload v2) would:
        404 without a matching route, 500 when the handler raises."""
        route, function, params = self._match_route(method, path)
        if function is None or route is None:
            return HttpResult(404, {"content-type": "application/json"}, json.dumps({"message": "Not Found"}))
        if route.authorizer == "AWS_IAM" and _iam_refusal(method, path, headers or {}, body):
            return HttpResult(403, {"content-type": "application/json"}, json.dumps({"message": "Forbidden"}))
        event = http_api_event(method, path, route, params, headers or {}, body)
        try:
            result = self.invoke(function.logical_id, event)
        except Exception:
            return _internal_error()
        return _http_result(result)

    def _match_route(
        self, method: str, path: str
    ) -> tuple[HttpRoute | None, FunctionSpec | None, dict[str, str]]:
        for function in self.stack.functions.values():
            for route in function.http_routes:
                if route.method.upper() not in (method.upper(), "ANY"):
                    continue
                params = _match_path(route.path, path)
                if params is not None:
                    return route, function, params
        return None, None, {}

    # --- SQS ----------------------------------------------------------------------------------------

    def drain(
        self,
        logical_id: str = "SyncConsumerFunction",
        *,
        max_batches: int = 100,
        max_seconds: float = 60.0,
        batching_window: bool = False,
    ) -> DrainReport:
        """Poll the function's queues into it until they are empty (bounded in batches and time).

        Each batch holds up to the mapping's BatchSize records. The batching window exists to gather
        records that arrive later; draining what is queued now skips it unless `batching_window`."""
        spec = self._function(logical_id)
        report = DrainReport()
        deadline = time.monotonic() + max_seconds
        for source in spec.sqs_sources:
            while report.batches < max_batches and time.monotonic() < deadline:
                messages = self.receive_batch(source, batching_window=batching_window, deadline=deadline)
                if not messages:
                    break
                report.add(self.deliver_batch(spec, source, messages))
        return report

    def receive_batch(
        self,
        source: SqsSource,
        *,
        batching_window: bool = True,
        deadline: float | None = None,
        wait_s: int = 0,
    ) -> list[dict[str, Any]]:
        """One batch as the event source mapping gathers it: up to BatchSize records, for at most
        MaximumBatchingWindowInSeconds after the first (when `batching_window`), never past `deadline`.
        `wait_s`: long-poll that long for the first record (SQS answers as soon as one arrives)."""
        sqs = _client("sqs", self.stack.region)
        batch: list[dict[str, Any]] = []
        window_end: float | None = None
        end = deadline if deadline is not None else time.monotonic() + 60.0
        while len(batch) < source.batch_size and time.monotonic() < end:
            if batching_window and window_end is not None and time.monotonic() >= window_end:
                break
            resp = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(source.batch_size - len(batch), 10),  # SQS's own per-call limit
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0 if batch else wait_s,
            )
            messages = resp.get("Messages", [])
            if messages:
                batch.extend(messages)
                if window_end is None:
                    window_end = time.monotonic() + source.batching_window_s
                continue
            if not batching_window or window_end is None:
                break  # nothing (more) queued now
            time.sleep(max(0.0, min(POLL_SLEEP_S, window_end - time.monotonic(), end - time.monotonic())))
        return batch

    def deliver_batch(
        self, spec: FunctionSpec, source: SqsSource, messages: list[dict[str, Any]]
    ) -> DrainReport:
        """Invoke the function with one batch; delete what succeeded (what Lambda's poller does).

        Failed records are left alone: they reappear after their visibility timeout (or the backoff the
        consumer set), and SQS moves them to the DLQ after the redrive policy's maxReceiveCount."""
        failed = self._invoke_batch(spec, source, messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        sqs = _client("sqs", self.stack.region)
        for start in range(0, len(done), 10):  # DeleteMessageBatch takes up to 10 entries
            entries = [
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                for n, m in enumerate(done[start : start + 10])
            ]
            sqs.delete_message_batch(QueueUrl=source.queue_url, Entries=entries)
        return DrainReport(
            batches=1,
            received=len(messages),
            succeeded=len(messages) - len(failed),
            failed=len(failed),
            batch_sizes=[len(messages)],
        )

    def _invoke_batch(
        self, spec: FunctionSpec, source: SqsSource, messages: list[dict[str, Any]]
    ) -> set[str]:
        ids = {m["MessageId"] for m in messages}
        event = sqs_event(messages, source.queue_arn, self.stack.region)
        try:
            result = self.invoke(spec.logical_id, event)
        except Exception:  # a crashed invocation fails the whole batch, as in Lambda
            return ids
        if not source.report_batch_item_failures:
            return set()
        if not isinstance(result, Mapping) or not isinstance(result.get("batchItemFailures", []), list):
            return ids  # Lambda treats an unreadable partial-batch response as a failure of the batch
        reported = {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures", [])}
        # An identifier that is not in the batch (or empty) fails the whole batch, as in Lambda.
        return ids if reported - ids else reported

    def poller_concurrency(self, source: SqsSource) -> int:
        """Batches of one event source in flight at once: one here, where invocations take turns."""
        return 1

    def close(self) -> None:
        """Nothing to stop: the handlers run in this process (ProcessRuntime stops its containers)."""

    def pollers(
        self, *, idle_s: float = 0.2, on_batch: Callable[[str, DrainReport], None] | None = None
    ) -> QueuePollers:
        """Background pollers for every SQS event source (use as a context manager)."""
        return QueuePollers(self, idle_s=idle_s, on_batch=on_batch)

    # --- schedules ----------------------------------------------------------------------------------

    def fire_schedule(self, logical_id: str) -> Any:
        spec = self._function(logical_id)
        rule = spec.schedules[0].rule_name if spec.schedules else f"{logical_id}-manual"
        return self.invoke(logical_id, scheduled_event(rule, self.stack.region))


class QueuePollers:
    """Poller threads per SQS event source mapping, as Lambda's pollers: each gathers a batch with the
    mapping's settings (batching window included), invokes, deletes what succeeded. As many pollers as
    the runtime runs batches of that source at once (`poller_concurrency`: the mapping's
    MaximumConcurrency with worker processes, one in process). Stops on `stop()` or when the context
    exits; every wait is bounded."""

    def __init__(
        self,
        runtime: LocalRuntime,
        *,
        idle_s: float = 0.2,
        on_batch: Callable[[str, DrainReport], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.idle_s = idle_s
        self.on_batch = on_batch
        self.report = DrainReport()
        self._report_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._run,
                args=(spec, source),
                name=f"poller-{spec.logical_id}-{source.queue_logical_id}-{n}",
                daemon=True,
            )
            for spec in runtime.stack.functions.values()
            for source in spec.sqs_sources
            for n in range(runtime.poller_concurrency(source))
        ]

    def start(self) -> QueuePollers:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> QueuePollers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, spec: FunctionSpec, source: SqsSource) -> None:
        while not self._stop.is_set():
            messages = self.runtime.receive_batch(
                source,
                batching_window=True,
                deadline=time.monotonic() + source.batching_window_s + 5,
                wait_s=LONG_POLL_S,
            )
            if not messages:
                self._stop.wait(self.idle_s)
                continue
            report = self.runtime.deliver_batch(spec, source, messages)
            with self._report_lock:
                self.report.add(report)
            if self.on_batch is not None:
                self.on_batch(spec.logical_id, report)


# --- events in the shapes AWS sends -----------------------------------------------------------------


def _iam_refusal(
    method: str, path: str, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes
) -> str | None:
    """Why API Gateway's AWS_IAM authorizer would refuse this request (runtime/iam_auth.py), or None."""
    from catalog_sync_local.runtime.aws_backend import FAKE_AWS_ENV
    from catalog_sync_local.runtime.iam_auth import refusal

    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lowered = {name.lower(): value for name, value in pairs}
    secrets = {FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"]: FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"]}
    return refusal(method, path, lowered, body, secrets=secrets)


def http_api_event(
    method: str,
    path: str,
    route: HttpRoute,
    params: Mapping[str, str],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event, as API Gateway builds it.

    Header names lower-cased, repeated headers joined with commas; the Cookie header becomes `cookies`;
    `queryStringParameters` joins repeated keys with commas; keys without content (no query string,
    cookies, path parameters or body) are left out; the body is the raw bytes, base64-encoded with
    `isBase64Encoded` true unless the content type is text."""
    raw_path, _, query = path.partition("?")
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    is_text = _is_text(lowered.get("content-type", "")) and _is_utf8(body)
    route_key = f"{route.method} {route.path}"
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = lowered
    if query:
        event["queryStringParameters"] = _query_parameters(query)
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": lowered.get("host", "127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": method.upper(),
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": lowered.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if route.authorizer == "AWS_IAM":  # who IAM let through: the local stack's only identity
        event["requestContext"]["authorizer"] = {
            "iam": {
                "accessKey": "testing",
                "accountId": ACCOUNT_ID,
                "callerId": "local",
                "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/local",
                "userId": "local",
            }
        }
    if params:
        event["pathParameters"] = dict(params)
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    event["isBase64Encoded"] = bool(body) and not is_text
    return event


# Content types API Gateway passes through as text; anything else arrives base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith(("+json", "+xml"))


def _query_parameters(query: str) -> dict[str, str]:
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, []).append(value)
    return {key: ",".join(items) for key, items in values.items()}


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def scheduled_event(rule_name: str, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


# --- helpers ----------------------------------------------------------------------------------------


_applied_environment: dict[str, str] | None = None


@contextlib.contextmanager
def function_environment(spec: FunctionSpec, environment: Mapping[str, str] | None = None) -> Iterator[None]:
    """Apply the function's template environment for one invocation, then restore the process's.

    The handlers' wiring (clients, HTTP sessions, cached connections) lives on like a warm Lambda
    container while the same environment is invoked again; a different environment rebuilds it.
    """
    global _applied_environment  # noqa: PLW0603 - mirrors one container's lifetime
    from catalog_sync import services

    env = dict(spec.environment if environment is None else environment)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    if _applied_environment != env:
        services.reset()
        _apply_log_level(env)
        _applied_environment = env
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _apply_log_level(env: Mapping[str, str]) -> None:
    """A new container's Powertools logger starts at its environment's level. In one process the
    service's logger lives on (Powertools configures it once), so the level is set again here."""
    import logging

    logger = logging.root.manager.loggerDict.get(env.get("POWERTOOLS_SERVICE_NAME", ""))
    if isinstance(logger, logging.Logger) and getattr(logger, "init", False):  # configured by Powertools
        level = (env.get("POWERTOOLS_LOG_LEVEL") or env.get("LOG_LEVEL") or "INFO").upper()
        with contextlib.suppress(ValueError):
            logger.setLevel(level)
            layer = logging.root.manager.loggerDict.get("catalog_sync")  # given the service's config
            if isinstance(layer, logging.Logger) and not layer.propagate:
                layer.setLevel(level)


def reset_containers() -> None:
    """Forget warm state (a new moto backend or template means new 'containers')."""
    global _applied_environment  # noqa: PLW0603
    from catalog_sync import services

    _applied_environment = None
    services.reset()


def _import_file(name: str, path: Any) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import handler file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _match_path(template: str, path: str) -> dict[str, str] | None:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path.partition("?")[0])
    return match.groupdict() if match else None


def _internal_error() -> HttpResult:
    return HttpResult(
        500, {"content-type": "application/json"}, json.dumps({"message": "Internal Server Error"})
    )


def _http_result(result: Any) -> HttpResult:
    if not isinstance(result, Mapping):
        return _internal_error()
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    return HttpResult(int(result.get("statusCode", 200)), headers, body)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _client(service: str, region: str) -> Any:
    import boto3

    return boto3.client(service, region_name=region)  # type: ignore[call-overload]
