"""`catalog-sync local ...` as a user runs it: real subprocesses, bounded in time.

`local invoke` behaves like `sam local invoke`: the handler's return value as JSON on stdout's last line
(the function's logs go to stderr). `local start` serves on 127.0.0.1 until --max-seconds, Ctrl-C
(SIGINT) or SIGTERM, and then exits 0 and frees its port. The invocations run concurrently (each process
deploys its own stack on embedded moto, ~5 s cold).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from click.testing import CliRunner

from catalog_sync.connections import ConnectionsDocument
from catalog_sync.errors import SignatureInvalid
from catalog_sync.signatures import verify
from catalog_sync_local.cli.main import main
from catalog_sync_local.demo.sample_events import webhook_event
from catalog_sync_local.runtime.running_stack import STACK_FILE_VARIABLE
from tests.conftest import EVENTS, REPO
from tests.integration.conftest import CONNECTION, modified_template

CLI = Path(sys.executable).parent / "catalog-sync"
PARALLEL_INVOKES = 3
TIMEOUT_S = 90
STALE_SAMPLE = EVENTS / "webhook_receiver" / "product_updated.json"
PIXLPAY = "pixlpay-to-medusa"
TWO_WAY_STORES, TWO_WAY_PIXLPAY = "store-c-and-d", "pixlpay-and-medusa"
MEDUSA_ID = "prod_01JF8Z3Q4V5W6X7Y8Z9A0B1C2D"
CONNECTIONS = REPO / "config" / "connections.local.yaml"


def _cli(*args: str | Path) -> list[str]:
    return [str(CLI), *(str(a) for a in args)]


def _last_line_json(stdout: str) -> Any:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def invocations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every `local invoke` case, run as concurrent subprocesses once for the module."""
    tmp = tmp_path_factory.mktemp("cli")
    fresh = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        _cli("local", "generate-event", "webhook", "--scope", "store/product/updated", "--id", "7"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    (tmp / "fresh.json").write_text(fresh.stdout)
    fresh_pixlpay = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        _cli(
            "local",
            "generate-event",
            "webhook",
            "--connection",
            PIXLPAY,
            "--scope",
            "product.updated",
            "--id",
            "7",
        ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    (tmp / "fresh_pixlpay.json").write_text(fresh_pixlpay.stdout)
    destinations = {
        "store_d.json": ["--connection", TWO_WAY_STORES, "--id", "7"],
        "medusa.json": ["--connection", TWO_WAY_PIXLPAY, "--id", MEDUSA_ID],
    }
    for name, args in destinations.items():
        generated = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            _cli("local", "generate-event", "webhook", "--side", "destination", *args),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=True,
        )
        (tmp / name).write_text(generated.stdout)

    cases = {
        "stale receiver": _cli("local", "invoke", "WebhookReceiverFunction", "--event", STALE_SAMPLE),
        "fresh receiver": _cli("local", "invoke", "WebhookReceiverFunction", "--event", tmp / "fresh.json"),
        "fresh pixlpay receiver": _cli(
            "local", "invoke", "WebhookReceiverFunction", "--event", tmp / "fresh_pixlpay.json"
        ),
        "fresh store d receiver": _cli(
            "local", "invoke", "WebhookReceiverFunction", "--event", tmp / "store_d.json"
        ),
        "fresh medusa receiver": _cli(
            "local", "invoke", "WebhookReceiverFunction", "--event", tmp / "medusa.json"
        ),
        "consumer": _cli(
            "local", "invoke", "SyncConsumerFunction", "-e", EVENTS / "sync_consumer" / "product_batch.json"
        ),
        "pixlpay consumer": _cli(
            "local",
            "invoke",
            "SyncConsumerFunction",
            "-e",
            EVENTS / "sync_consumer" / "pixlpay_product_batch.json",
        ),
        "pull": _cli("local", "invoke", "PullSyncFunction", "-e", EVENTS / "pull_sync" / "scheduled.json"),
        "full": _cli("local", "invoke", "FullSyncFunction", "-e", EVENTS / "full_sync" / "scheduled.json"),
        "cleanup": _cli(
            "local", "invoke", "EventCleanupFunction", "-e", EVENTS / "event_cleanup" / "scheduled.json"
        ),
    }
    # A few at a time: each starts the whole local stack (moto, every simulator), and ten at once on a
    # loaded two-core machine outlast any sensible timeout.
    results = {}
    names = list(cases)
    for start in range(0, len(names), PARALLEL_INVOKES):
        running = {
            name: subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                cases[name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
            )
            for name in names[start : start + PARALLEL_INVOKES]
        }
        for name, process in running.items():
            try:
                stdout, stderr = process.communicate(timeout=TIMEOUT_S)
            finally:
                process.kill()
            results[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


@pytest.mark.timeout(600)  # its fixture starts the whole local stack per invocation: slow when loaded
class TestLocalInvoke:
    def test_the_committed_receiver_sample_is_refused_as_a_replay_once_stale(
        self, invocations: dict[str, subprocess.CompletedProcess[str]]
    ) -> None:
        run = invocations["stale receiver"]
        signed_at = int(json.loads(STALE_SAMPLE.read_text())["headers"]["webhook-timestamp"])
        assert time.time() - signed_at > 300, "the committed sample was signed minutes ago; regenerate later"
        assert run.returncode == 0, run.stderr
        response = _last_line_json(run.stdout)
        assert response["statusCode"] == 401
        assert json.loads(response["body"])["error"] == "timestamp_out_of_tolerance"

    def test_a_freshly_generated_webhook_is_accepted(
        self, invocations: dict[str, subprocess.CompletedProcess[str]]
    ) -> None:
        run = invocations["fresh receiver"]
        assert run.returncode == 0, run.stderr
        response = _last_line_json(run.stdout)
        assert response["statusCode"] == 200
        assert json.loads(response["body"])["status"] == "accepted"

    def test_a_freshly_generated_pixlpay_webhook_is_accepted(
        self, invocations: dict[str, subprocess.CompletedProcess[str]]
    ) -> None:
        run = invocations["fresh pixlpay receiver"]
        assert run.returncode == 0, run.stderr
        response = _last_line_json(run.stdout)
        assert response["statusCode"] == 200, response["body"]
        assert json.loads(response["body"])["status"] == "accepted"

    @pytest.mark.parametrize("case", ["fresh store d receiver", "fresh medusa receiver"])
    def test_a_freshly_generated_destination_webhook_is_accepted_on_the_destination_route(
        self, invocations: dict[str, subprocess.CompletedProcess[str]], case: str
    ) -> None:
        run = invocations[case]
        assert run.returncode == 0, run.stderr
        response = _last_line_json(run.stdout)
        assert response["statusCode"] == 200, response["body"]
        body = json.loads(response["body"])
        assert body["status"] == "accepted"
        assert body["delivery_id"].startswith("destination:msg_")  # the destination side's namespace

    def test_stdout_holds_only_the_return_value_and_the_logs_go_to_stderr(
        self, invocations: dict[str, subprocess.CompletedProcess[str]]
    ) -> None:
        run = invocations["fresh receiver"]
        assert len(run.stdout.strip().splitlines()) == 1
        assert '"Webhook_accepted"' in run.stderr  # the handler's EMF metrics line

    def test_the_consumer_sample_batch_reports_no_failures(
        self, invocations: dict[str, subprocess.CompletedProcess[str]]
    ) -> None:
        run = invocations["consumer"]
        assert run.returncode == 0, run.stderr
        assert _last_line_json(run.stdout) == {"batchItemFailures": []}

    def test_the_pixlpay_consumer_sample_batch_reports_no_failures(
        self, invocations: dict[str, subprocess.CompletedProcess[str]]
    ) -> None:
        run = invocations["pixlpay consumer"]
        assert run.returncode == 0, run.stderr
        assert _last_line_json(run.stdout) == {"batchItemFailures": []}

    @pytest.mark.parametrize("case", ["pull", "full", "cleanup"])
    def test_each_scheduled_function_runs_its_job(
        self, invocations: dict[str, subprocess.CompletedProcess[str]], case: str
    ) -> None:
        run = invocations[case]
        assert run.returncode == 0, run.stderr
        result = _last_line_json(run.stdout)
        assert str(result["job"]).startswith(case)  # "pull", "full_sync", "cleanup": the job's summary


def test_generate_event_signs_a_pixlpay_webhook_for_a_pixlpay_connection() -> None:
    run = CliRunner().invoke(
        main,
        ["local", "generate-event", "webhook", "--connection", PIXLPAY, "--id", "42"],
        catch_exceptions=False,
    )

    assert run.exit_code == 0, run.output
    event = json.loads(run.stdout)
    assert event["rawPath"] == f"/webhooks/{PIXLPAY}"
    body = json.loads(event["body"])
    assert (body["event_type"], body["data"]) == ("product.updated", {"product_id": 42})  # the default event
    assert str(body["id"]).startswith("wh_del_")
    connection = ConnectionsDocument.parse(yaml.safe_load(CONNECTIONS.read_text())).get(PIXLPAY)
    verify(connection.signing, event["headers"], event["body"].encode(), now=time.time())  # raises if not
    assert "webhook-signature" not in event["headers"]


def test_generate_event_signs_a_medusa_subscriber_delivery_for_a_two_way_destination() -> None:
    args = ["--connection", TWO_WAY_PIXLPAY, "--side", "destination", "--id", MEDUSA_ID]
    args += ["--scope", "product.deleted", "--external-id", "pixlpay_3"]
    run = CliRunner().invoke(main, ["local", "generate-event", "webhook", *args], catch_exceptions=False)

    assert run.exit_code == 0, run.output
    event = json.loads(run.stdout)
    assert event["routeKey"] == "POST /webhooks/{connection}/destination"
    assert event["rawPath"] == f"/webhooks/{TWO_WAY_PIXLPAY}/destination"
    assert event["pathParameters"] == {"connection": TWO_WAY_PIXLPAY}
    body = json.loads(event["body"])
    assert (body["type"], body["data"]) == (
        "product.deleted",
        {"id": MEDUSA_ID, "external_id": "pixlpay_3", "updated_at": None},  # a deleted product's
    )
    document = ConnectionsDocument.parse(yaml.safe_load(CONNECTIONS.read_text()))
    medusa_signing = document.get(TWO_WAY_PIXLPAY).signing_of("destination")
    verify(medusa_signing, event["headers"], event["body"].encode(), now=time.time())  # raises if not
    with pytest.raises(SignatureInvalid):  # its own secret: another Standard Webhooks secret fails
        verify(
            document.get(TWO_WAY_STORES).signing, event["headers"], event["body"].encode(), now=time.time()
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--connection", CONNECTION, "--side", "destination"],
            f"'{CONNECTION}' is one-way: its destination sends no webhooks",
        ),
        (
            ["--connection", TWO_WAY_PIXLPAY, "--side", "destination", "--id", "7"],
            "a Medusa product id looks like prod_",
        ),
        (["--connection", TWO_WAY_STORES, "--side", "destination", "--id", MEDUSA_ID], "a positive number"),
        (
            ["--connection", TWO_WAY_STORES, "--side", "destination", "--scope", "product.updated"],
            "has a BigCommerce destination: its scopes look like store/product/updated",
        ),
        (
            ["--connection", PIXLPAY, "--scope", "store/product/updated"],
            "its events look like product.updated",
        ),
        (["--scope", "product.updated"], "its scopes look like store/product/updated"),
        (["--connection", "no-such-connection"], "no connection 'no-such-connection'"),
    ],
    ids=[
        "one-way destination",
        "number for medusa",
        "medusa id for store d",
        "medusa event for store d",
        "bigcommerce scope for pixlpay",
        "pixlpay event for bigcommerce",
        "unknown connection",
    ],
)
def test_generate_event_refuses_what_the_connection_s_side_does_not_send(
    args: list[str], message: str
) -> None:
    run = CliRunner().invoke(main, ["local", "generate-event", "webhook", *args])

    assert run.exit_code == 2
    assert message in run.output


def test_template_env_vars_and_parameter_overrides_are_applied(tmp_path: Path) -> None:
    """In process (click's runner): a modified template whose EchoFunction returns its environment."""

    def add_echo(template: dict[str, Any]) -> None:
        template["Resources"]["EchoFunction"] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": str(tmp_path / "echo"),
                "Handler": "app.handler",
                "Environment": {"Variables": {"ECHO_ONLY": "template"}},
            },
        }

    template = modified_template(tmp_path, add_echo)
    env_vars = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "ERROR"}, "EchoFunction": {"ECHO_ONLY": "env-vars"}}
    (tmp_path / "env.json").write_text(json.dumps(env_vars))
    names = ["ECHO_ONLY", "POWERTOOLS_LOG_LEVEL", "STAGE", "EVENT_RETENTION_DAYS"]
    (tmp_path / "names.json").write_text(json.dumps({"names": names}))
    args = ["local", "invoke", "EchoFunction", "--event", str(tmp_path / "names.json")]
    args += ["--template", str(template), "--env-vars", str(tmp_path / "env.json")]
    args += ["--parameter-overrides", "Stage=prod EventRetentionDays=3"]  # sam's form: one string

    run = CliRunner().invoke(main, args, catch_exceptions=False)

    assert run.exit_code == 0, run.output
    assert _last_line_json(run.stdout) == {
        "ECHO_ONLY": "env-vars",  # the function's own section of --env-vars
        "POWERTOOLS_LOG_LEVEL": "ERROR",  # "Parameters": every function
        "STAGE": "prod",  # --parameter-overrides, through the template's !Ref Stage
        "EVENT_RETENTION_DAYS": "3",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NoSuchFunction", "--event", STALE_SAMPLE), "no function 'NoSuchFunction' in the template"),
        (("PullSyncFunction", "--event", "missing.json"), "does not exist"),
        (("PullSyncFunction", "--event", REPO / "pyproject.toml"), "event is not valid JSON"),
        (
            (
                "PullSyncFunction",
                "--event",
                EVENTS / "pull_sync" / "scheduled.json",
                "--env-vars",
                REPO / "Makefile",
            ),
            "is not valid JSON",
        ),
    ],
    ids=["unknown logical id", "missing event file", "event not JSON", "env-vars not JSON"],
)
def test_bad_input_is_a_usage_error_with_a_message_not_a_traceback(
    args: tuple[Any, ...], message: str
) -> None:
    run = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        _cli("local", "invoke", *args),
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=REPO,
    )

    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def test_local_start_on_a_taken_aws_port_says_so_and_publishes_nothing(tmp_path: Path) -> None:
    stack_file = tmp_path / "local-stack.json"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            _cli("local", "start", "--port", "0", "--aws-port", str(port), "--max-seconds", "1"),
            check=False,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            cwd=REPO,
            env={**os.environ, STACK_FILE_VARIABLE: str(stack_file)},
        )

    assert run.returncode == 2
    assert f"the moto server cannot listen on 127.0.0.1:{port}" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not stack_file.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    """Nothing listens on it any more, and a new server (SO_REUSEADDR, as http.server) can bind it."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_for_line(process: subprocess.Popen[str], prefix: str, timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no line starting {prefix!r} from {process.args}")


def _post_signed_webhook(port: int) -> requests.Response:
    event = webhook_event(CONNECTION, "store/product/updated", 11)
    return requests.post(
        f"http://127.0.0.1:{port}/webhooks/{CONNECTION}",
        data=event["body"].encode(),
        headers=event["headers"],
        timeout=10,
    )


STOPS = {"max-seconds": "by itself after --max-seconds", "sigint": "on SIGINT (Ctrl-C)"}
MAX_SECONDS = {"max-seconds": "4", "sigint": "60"}  # the second is stopped by SIGINT well before


@dataclass
class StartRun:
    port: int
    aws_url: str
    response: requests.Response
    stack_file: Path
    stack_file_while_running: dict[str, Any]
    returncode: int | None
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def started(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, StartRun], subprocess.CompletedProcess[str]]:
    """`local start` twice at once (each with its own stack file): one left to stop by itself after 4 s,
    one sent SIGINT after it answered a signed webhook and a third `local start` on its stack file was
    refused."""
    tmp = tmp_path_factory.mktemp("start")
    ports = {stop: _free_port() for stop in STOPS}
    stack_files = {stop: tmp / f"{stop}.json" for stop in STOPS}
    processes = {
        stop: subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            _cli("local", "start", "--port", str(port), "--max-seconds", MAX_SECONDS[stop]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, STACK_FILE_VARIABLE: str(stack_files[stop])},
        )
        for stop, port in ports.items()
    }
    runs = {}
    try:
        responses, aws_urls, while_running = {}, {}, {}
        second: subprocess.CompletedProcess[str] | None = None
        for stop, process in processes.items():
            line = _wait_for_line(process, "HTTP API", timeout=60)
            assert f"http://127.0.0.1:{ports[stop]}" in line
            aws_urls[stop] = _wait_for_line(process, "aws ", timeout=5).split()[1]
            while_running[stop] = json.loads(stack_files[stop].read_text())
            responses[stop] = _post_signed_webhook(ports[stop])
            if stop == "sigint":
                second = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
                    _cli("local", "start", "--port", "0", "--max-seconds", "4"),
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_S,
                    cwd=REPO,
                    env={**os.environ, STACK_FILE_VARIABLE: str(stack_files[stop])},
                )
                process.send_signal(signal.SIGINT)
        for stop, process in processes.items():
            stdout, stderr = process.communicate(timeout=30)
            runs[stop] = StartRun(
                port=ports[stop],
                aws_url=aws_urls[stop],
                response=responses[stop],
                stack_file=stack_files[stop],
                stack_file_while_running=while_running[stop],
                returncode=process.returncode,
                stdout=stdout,
                stderr=stderr,
            )
    finally:
        for process in processes.values():
            process.kill()
    assert second is not None
    return runs, second


@pytest.mark.parametrize("stop", list(STOPS), ids=list(STOPS.values()))
def test_local_start_answers_on_loopback_then_stops_cleanly(
    started: tuple[dict[str, StartRun], subprocess.CompletedProcess[str]], stop: str
) -> None:
    run = started[0][stop]

    assert run.response.status_code == 200, run.response.text
    assert run.response.json()["status"] == "accepted"
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout.strip().splitlines()[-1] == "stopped"
    assert _port_is_free(run.port)


@pytest.mark.parametrize("stop", list(STOPS), ids=list(STOPS.values()))
def test_local_start_says_where_its_aws_is_while_it_runs_and_no_longer_after(
    started: tuple[dict[str, StartRun], subprocess.CompletedProcess[str]], stop: str
) -> None:
    run = started[0][stop]

    assert run.aws_url.startswith("http://127.0.0.1:")
    assert run.stack_file_while_running["aws"]["endpoint_url"] == run.aws_url
    assert run.stack_file_while_running["api_url"] == f"http://127.0.0.1:{run.port}"
    assert not run.stack_file.exists()
    assert _port_is_free(int(run.aws_url.rsplit(":", 1)[1]))


def test_a_second_local_start_is_refused_while_one_runs(
    started: tuple[dict[str, StartRun], subprocess.CompletedProcess[str]],
) -> None:
    second = started[1]

    assert second.returncode == 2
    assert "a local stack is already running" in second.stderr
    assert "Traceback" not in second.stderr
