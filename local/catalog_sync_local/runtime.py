"""Run the template's handlers in process against the local (moto) stack.

What API Gateway, the SQS event source mapping and EventBridge do in AWS, done here for one machine:
HTTP requests become HTTP API v2 events, queue messages become SQS batch events with the template's
batch size (partial batch failures honoured: only reported records stay on the queue, and SQS's own
redrive moves them to the DLQ), and schedules become scheduled events. Handlers are the deployable
files, imported from the template's CodeUri, with the template's environment applied.
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from catalog_sync_local.stack import FunctionSpec, HttpRoute, LocalStack, SqsSource

ACCOUNT_ID = "123456789012"


@dataclass
class LambdaContextStub:
    """The attributes Powertools and our handlers read from a real LambdaContext."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


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
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> HttpResult:
        """One request through the template's HTTP API routes, as API Gateway (payload v2) would."""
        route, function, params = self._match_route(method, path)
        if function is None or route is None:
            return HttpResult(404, {"content-type": "application/json"}, json.dumps({"message": "Not Found"}))
        event = http_api_event(method, path, route, params, headers or {}, body)
        result = self.invoke(function.logical_id, event)
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
        self, logical_id: str = "SyncConsumerFunction", *, max_batches: int = 100, max_seconds: float = 60.0
    ) -> DrainReport:
        """Poll the function's queues into it until they are empty (bounded in batches and time)."""
        spec = self._function(logical_id)
        report = DrainReport()
        deadline = time.monotonic() + max_seconds
        sqs = _client("sqs", self.stack.region)
        for source in spec.sqs_sources:
            while report.batches < max_batches and time.monotonic() < deadline:
                resp = sqs.receive_message(
                    QueueUrl=source.queue_url,
                    MaxNumberOfMessages=min(source.batch_size, 10),
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = resp.get("Messages", [])
                if not messages:
                    break
                report.batches += 1
                report.received += len(messages)
                failed = self._deliver_batch(spec, source, messages)
                report.failed += len(failed)
                report.succeeded += len(messages) - len(failed)
                done = [m for m in messages if m["MessageId"] not in failed]
                for m in done:
                    sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return report

    def _deliver_batch(
        self, spec: FunctionSpec, source: SqsSource, messages: list[dict[str, Any]]
    ) -> set[str]:
        event = sqs_event(messages, source.queue_arn, self.stack.region)
        try:
            result = self.invoke(spec.logical_id, event)
        except Exception:  # a crashed invocation fails the whole batch, as in Lambda
            return {m["MessageId"] for m in messages}
        if not source.report_batch_item_failures:
            return set()
        return {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}

    # --- schedules ----------------------------------------------------------------------------------

    def fire_schedule(self, logical_id: str) -> Any:
        spec = self._function(logical_id)
        rule = spec.schedules[0].rule_name if spec.schedules else f"{logical_id}-manual"
        return self.invoke(logical_id, scheduled_event(rule, self.stack.region))


# --- events in the shapes AWS sends -----------------------------------------------------------------


def http_api_event(
    method: str,
    path: str,
    route: HttpRoute,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event: lower-cased headers, raw body, base64 when binary."""
    raw_path, _, query = path.partition("?")
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    is_text = content_type.startswith(("application/json", "text/")) and _is_utf8(body)
    now = datetime.now(UTC)
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "pathParameters": dict(params),
        "body": body.decode() if is_text else base64.b64encode(body).decode(),
        "isBase64Encoded": not is_text,
    }


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
        _applied_environment = env
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


def _http_result(result: Any) -> HttpResult:
    if not isinstance(result, Mapping):
        return HttpResult(502, {}, json.dumps({"message": "Internal Server Error"}))
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
