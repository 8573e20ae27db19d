"""LocalRuntime runs what template.yaml says: environment, SQS batch settings, HTTP API v2 events.

The tests deploy modified copies of template.yaml (tmp_path) whose functions point at a tiny echo
handler, so what the runtime hands a function (environment, batches, events) is visible directly.
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catalog_sync_local.runtime.api_server import LocalApiServer
from catalog_sync_local.runtime.local_runtime import HttpResult, LocalRuntime, reset_containers
from catalog_sync_local.runtime.stack import deploy_local_stack
from tests.integration.conftest import modified_template

NEW_VARIABLE = "CATALOG_SYNC_EXPERIMENT"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        reset_containers()
        yield
        reset_containers()


def _echo_runtime(
    tmp_path: Path, name: str, *, batch_size: int | None = None, window_s: int | None = None, **extra: Any
) -> LocalRuntime:
    """A runtime from a modified template.yaml whose SyncConsumerFunction runs the echo handler."""
    folder = tmp_path / name
    folder.mkdir()

    def change(template: dict[str, Any]) -> None:
        consumer = template["Resources"]["SyncConsumerFunction"]["Properties"]
        consumer["CodeUri"] = str(folder / "echo")  # the echo handler modified_template writes
        sqs = consumer["Events"]["SyncQueue"]["Properties"]
        if batch_size is not None:
            sqs["BatchSize"] = batch_size
        if window_s is not None:
            sqs["MaximumBatchingWindowInSeconds"] = window_s
        if "change" in extra:
            extra["change"](template)

    stack = deploy_local_stack(modified_template(folder, change), stack_name=name)
    return LocalRuntime(stack)


def _send(runtime: LocalRuntime, count: int) -> None:
    url = runtime.stack.queues["SyncQueue"].url
    for i in range(count):
        boto3.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))


def _echo_batches(logical_id: str = "SyncConsumerFunction") -> list[int]:
    sizes: list[int] = sys.modules[f"catalog_sync_fn_{logical_id}"].BATCH_SIZES
    return sizes


class TestAChangedTemplateIsWhatRuns:
    def test_a_new_environment_variable_reaches_the_handler(self, aws: None, tmp_path: Path) -> None:
        def add_variable(template: dict[str, Any]) -> None:
            template["Globals"]["Function"]["Environment"]["Variables"][NEW_VARIABLE] = "on"

        original = _echo_runtime(tmp_path, "original")
        changed = _echo_runtime(tmp_path, "changed", change=add_variable)
        names = {"names": [NEW_VARIABLE, "SYNC_QUEUE_URL", "STAGE"]}

        before = original.invoke("SyncConsumerFunction", names)
        after = changed.invoke("SyncConsumerFunction", names)

        assert before[NEW_VARIABLE] is None
        assert after == {
            NEW_VARIABLE: "on",
            "SYNC_QUEUE_URL": changed.stack.queues["SyncQueue"].url,  # resolved by the deploy
            "STAGE": "dev",
        }

    @pytest.mark.parametrize("batch_size", [3, 10])
    def test_draining_n_messages_takes_ceil_n_over_the_templates_batch_size(
        self, aws: None, tmp_path: Path, batch_size: int
    ) -> None:
        runtime = _echo_runtime(tmp_path, f"batch-{batch_size}", batch_size=batch_size, window_s=0)
        _send(runtime, 7)

        report = runtime.drain()

        assert report.batches == math.ceil(7 / batch_size)
        assert _echo_batches() == report.batch_sizes
        assert sum(report.batch_sizes) == report.succeeded == 7
        assert max(report.batch_sizes) == min(batch_size, 7)
        assert runtime.drain().received == 0  # every record deleted after its successful batch

    def test_a_batch_size_above_ten_is_gathered_over_several_receives(
        self, aws: None, tmp_path: Path
    ) -> None:
        runtime = _echo_runtime(tmp_path, "batch-25", batch_size=25, window_s=0)
        _send(runtime, 30)

        report = runtime.drain()

        assert report.batch_sizes == [25, 5]


class TestBatchingWindow:
    def test_records_arriving_within_the_window_join_the_batch(self, aws: None, tmp_path: Path) -> None:
        runtime = _echo_runtime(tmp_path, "window", batch_size=10, window_s=3)
        [source] = runtime.stack.functions["SyncConsumerFunction"].sqs_sources
        _send(runtime, 1)
        late = threading.Timer(0.3, _send, args=(runtime, 2))
        late.start()
        started = time.monotonic()

        batch = runtime.receive_batch(source, batching_window=True)

        late.join()
        elapsed = time.monotonic() - started
        # 3 of a possible 10 records: the window closed the batch (not a full batch), and not before 3 s.
        # (A 3 s window leaves the late sender time to land on a loaded machine.)
        assert len(batch) == 3
        assert elapsed >= 3.0

    def test_a_full_batch_does_not_wait_for_the_window(self, aws: None, tmp_path: Path) -> None:
        runtime = _echo_runtime(tmp_path, "full", batch_size=3, window_s=5)
        [source] = runtime.stack.functions["SyncConsumerFunction"].sqs_sources
        _send(runtime, 3)
        started = time.monotonic()

        batch = runtime.receive_batch(source, batching_window=True)

        assert len(batch) == 3
        assert time.monotonic() - started < 4.0, "a full batch waited out the 5 s window"

    def test_pollers_deliver_with_the_templates_settings_and_stop_with_their_context(
        self, aws: None, tmp_path: Path
    ) -> None:
        runtime = _echo_runtime(tmp_path, "pollers", batch_size=4, window_s=0)
        _send(runtime, 9)

        with runtime.pollers(idle_s=0.05) as pollers:
            deadline = time.monotonic() + 10
            while pollers.report.received < 9 and time.monotonic() < deadline:
                time.sleep(0.05)
        threads = [t for t in threading.enumerate() if t.name.startswith("poller-")]

        assert pollers.report.received == pollers.report.succeeded == 9
        assert all(size <= 4 for size in pollers.report.batch_sizes)
        assert threads == []


# Top-level keys of `sam local generate-event apigateway http-api-proxy`, minus what this template's
# API does not have (stage variables, authorizers, mutual TLS).
SAM_HTTP_API_KEYS = {
    "version",
    "routeKey",
    "rawPath",
    "rawQueryString",
    "cookies",
    "headers",
    "queryStringParameters",
    "requestContext",
    "body",
    "pathParameters",
    "isBase64Encoded",
}
SAM_REQUEST_CONTEXT_KEYS = {
    "accountId",
    "apiId",
    "domainName",
    "domainPrefix",
    "http",
    "requestId",
    "routeKey",
    "stage",
    "time",
    "timeEpoch",
}


class TestHttpApiEvents:
    """Real HTTP requests to the local API become the payload v2 events API Gateway would send."""

    @pytest.fixture
    def api(self, aws: None, tmp_path: Path) -> Iterator[LocalApiServer]:
        def add_echo_route(template: dict[str, Any]) -> None:
            template["Resources"]["EchoFunction"] = {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": str(tmp_path / "http" / "echo"),
                    "Handler": "app.handler",
                    "Events": {
                        "Echo": {
                            "Type": "HttpApi",
                            "Properties": {
                                "ApiId": {"Ref": "HttpApi"},
                                "Method": "ANY",
                                "Path": "/echo/{name}",
                            },
                        }
                    },
                },
            }

        runtime = _echo_runtime(tmp_path, "http", change=add_echo_route)
        with LocalApiServer(runtime) as server:
            yield server

    def _request(
        self, api: LocalApiServer, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> dict[str, Any]:
        host, port = api.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.putrequest(method, path)
            for name, value in [*headers, ("Content-Length", str(len(body)))]:
                conn.putheader(name, value)
            conn.endheaders(body)
            response = conn.getresponse()
            assert response.status == 200
            event: dict[str, Any] = json.loads(response.read())
            return event
        finally:
            conn.close()

    def test_a_binary_body_with_cookies_query_and_repeated_headers(self, api: LocalApiServer) -> None:
        body = bytes(range(256))
        event = self._request(
            api,
            "POST",
            "/echo/mug?size=xl&color=blue&color=red",
            [
                ("Content-Type", "application/octet-stream"),
                ("X-Trace", "a"),
                ("X-Trace", "b"),
                ("Cookie", "session=abc; theme=dark"),
            ],
            body,
        )

        assert set(event) == SAM_HTTP_API_KEYS
        assert set(event["requestContext"]) == SAM_REQUEST_CONTEXT_KEYS
        assert event["version"] == "2.0"
        assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /echo/{name}"
        assert (event["rawPath"], event["rawQueryString"]) == ("/echo/mug", "size=xl&color=blue&color=red")
        assert event["queryStringParameters"] == {"size": "xl", "color": "blue,red"}
        assert event["pathParameters"] == {"name": "mug"}
        assert event["cookies"] == ["session=abc", "theme=dark"]
        assert all(name == name.lower() for name in event["headers"])
        assert "cookie" not in event["headers"]
        assert event["headers"]["x-trace"] == "a,b"
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == body
        assert event["requestContext"]["http"]["method"] == "POST"

    def test_a_json_body_is_passed_raw_and_empty_parts_are_left_out(self, api: LocalApiServer) -> None:
        raw = b'{"b": 1,   "a": "\\u00e9"}'  # spacing and escapes kept: signatures cover these bytes
        event = self._request(api, "POST", "/echo/x", [("Content-Type", "application/json")], raw)

        assert event["body"] == raw.decode()
        assert event["isBase64Encoded"] is False
        assert "cookies" not in event
        assert "queryStringParameters" not in event
        assert event["rawQueryString"] == ""

    def test_a_request_without_a_route_is_404_as_api_gateway_answers(self, api: LocalApiServer) -> None:
        conn = http.client.HTTPConnection(api.url.removeprefix("http://"), timeout=10)
        conn.request("GET", "/nowhere")
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (404, {"message": "Not Found"})
        conn.close()


class _SlowRuntime:
    """Answers each request only once `release` is set: lets a caller give up before the answer."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.handled = 0

    def http(self, method: str, path: str, **_: Any) -> HttpResult:
        self.release.wait(timeout=10)
        self.handled += 1
        return HttpResult(200, {"content-type": "application/json"}, '{"ok": true}' * 10_000)


def test_a_caller_that_hung_up_leaves_no_traceback_and_the_server_answers_the_next(
    capfd: pytest.CaptureFixture[str],
) -> None:
    runtime = _SlowRuntime()
    with LocalApiServer(runtime) as server:  # type: ignore[arg-type]  # only .http is used
        host, port = server.url.removeprefix("http://").split(":")
        impatient = socket.create_connection((host, int(port)), timeout=5)
        impatient.sendall(b"POST /webhooks/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        impatient.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        impatient.close()  # a reset, as a provider's delivery timeout does
        time.sleep(0.2)
        runtime.release.set()

        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/status")
        assert conn.getresponse().status == 200
        conn.close()

    assert runtime.handled == 2  # the abandoned request was still handled, as behind API Gateway
    assert "Traceback" not in capfd.readouterr().err
