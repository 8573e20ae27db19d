"""`status`, `redrive`, `replay` and `full-sync` in one terminal reach the `local start` running in another.

One `local start` (a subprocess with its own stack file, bounded by --max-seconds) and, while it runs, a
merchant's product created in store A (the store delivers the webhook itself) and every ops command run
as its own process, as a user types them; then the stack is stopped and `status` asked once more.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml

from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime.aws_backend import AwsBackend, applied
from catalog_sync_local.runtime.running_stack import STACK_FILE_VARIABLE
from tests.conftest import REPO
from tests.integration.conftest import CONNECTION

CLI = Path(sys.executable).parent / "catalog-sync"
COMMAND_TIMEOUT_S = 90
SYNC_TIMEOUT_S = 30
CONNECTIONS = yaml.safe_load((REPO / "config" / "connections.local.yaml").read_text())["connections"]
ENDPOINTS = CONNECTIONS[CONNECTION]


@dataclass
class Scenario:
    lines: list[str]  # what local start printed before the commands ran
    status: dict[str, Any]  # with the product synced and one message parked on the DLQ
    redrive_dry_run: subprocess.CompletedProcess[str]
    redrive: subprocess.CompletedProcess[str]
    replay: subprocess.CompletedProcess[str]
    full_sync: subprocess.CompletedProcess[str]
    final_status: dict[str, Any]
    drift_clean: subprocess.CompletedProcess[str]
    drift_after_edit: subprocess.CompletedProcess[str]  # store B repriced behind the system's back
    start_exit: int | None
    after_stop: subprocess.CompletedProcess[str]


class Terminal:
    """Another terminal: runs the CLI with the same stack file in the environment."""

    def __init__(self, stack_file: Path) -> None:
        self.env = {**os.environ, STACK_FILE_VARIABLE: str(stack_file)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [str(CLI), *args],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            cwd=REPO,
            env=self.env,
            check=False,
        )

    def status(self) -> dict[str, Any]:
        run = self.run("status", "--connection", CONNECTION)
        assert run.returncode == 0, run.stderr
        document: dict[str, Any] = json.loads(run.stdout)
        return document


class Output:
    """A process's stdout, read line by line in a thread (a full pipe would block the process)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def until(self, prefix: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, line in enumerate(list(self.lines)):
                if line.startswith(prefix):
                    return self.lines[: index + 1]
            if not self._thread.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"no line starting {prefix!r} from local start; it printed {self.lines}")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    stack_file = tmp_path_factory.mktemp("ops") / "local-stack.json"
    terminal = Terminal(stack_file)
    start = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [str(CLI), "local", "start", "--port", "0", "--max-seconds", "180"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=terminal.env,
    )
    try:
        lines = Output(start).until("medusa", timeout=60)
        stores = {line.split()[1]: line.split()[2] for line in lines if line.startswith("store ")}
        running = json.loads(stack_file.read_text())
        product = _create_product(stores["storea"])
        _wait_until_synced(running, stores["storeb"], product["sku"])
        _park_on_dead_letter_queue(running, product["id"])
        status = terminal.status()
        redrive_dry_run = terminal.run("redrive", "--dry-run")
        redrive = terminal.run("redrive")
        replay = terminal.run("replay", "--connection", CONNECTION, "--since", "2026-01-01T00:00:00Z")
        full_sync = terminal.run("full-sync", "--connection", CONNECTION, "--wait", "60")
        final_status = terminal.status()
        drift_clean = terminal.run("drift", "--connection", CONNECTION)
        _reprice_behind_our_back(stores["storeb"], product["sku"])
        drift_after_edit = terminal.run("drift", "--connection", CONNECTION)
        start.send_signal(signal.SIGINT)
        start.communicate(timeout=30)
        yield Scenario(
            lines=lines,
            status=status,
            redrive_dry_run=redrive_dry_run,
            redrive=redrive,
            replay=replay,
            full_sync=full_sync,
            final_status=final_status,
            drift_clean=drift_clean,
            drift_after_edit=drift_after_edit,
            start_exit=start.returncode,
            after_stop=terminal.run("status", "--connection", CONNECTION),
        )
    finally:
        start.kill()
        start.wait(timeout=30)


def _create_product(store_v3: str) -> dict[str, Any]:
    """What a merchant does in store A's admin (the store then sends its webhook)."""
    resp = requests.post(
        f"{store_v3}/catalog/products",
        json={"name": "Mug", "type": "physical", "sku": "MUG-1", "price": 9.5, "weight": 1},
        headers=_auth("source"),
        timeout=10,
    )
    resp.raise_for_status()
    product: dict[str, Any] = resp.json()["data"]
    return product


def _reprice_behind_our_back(store_v3: str, sku: str) -> None:
    """Someone edits store B directly (another app, a person in B's admin): no webhook, no sync."""
    found = requests.get(
        f"{store_v3}/catalog/products", params={"sku": sku}, headers=_auth("destination"), timeout=10
    ).json()["data"]
    resp = requests.put(
        f"{store_v3}/catalog/products/{found[0]['id']}",
        json={"price": 1.25},
        headers=_auth("destination"),
        timeout=10,
    )
    resp.raise_for_status()


def _wait_until_synced(running: dict[str, Any], store_v3: str, sku: str) -> None:
    """The product is in store B and the consumer has finished its batch (SyncQueue empty)."""
    sqs = _sqs(running)
    queue = running["stack"]["resources"]["SyncQueue"]
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    while time.monotonic() < deadline:
        resp = requests.get(
            f"{store_v3}/catalog/products", params={"sku": sku}, headers=_auth("destination"), timeout=10
        )
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if resp.ok and resp.json()["data"] and not any(int(v) for v in attrs.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"{sku} did not reach store B within {SYNC_TIMEOUT_S} s")


def _sqs(running: dict[str, Any]) -> Any:
    """An SQS client of the running stack's moto server (as the `aws` CLI with --endpoint-url)."""
    with applied(AwsBackend(**running["aws"])):
        return boto3.client("sqs")


def _auth(role: str) -> dict[str, str]:
    return {"X-Auth-Token": ENDPOINTS[role]["access_token"], "Accept": "application/json"}


def _park_on_dead_letter_queue(running: dict[str, Any], product_id: int) -> None:
    """A request that failed for good earlier, as the consumer leaves it on the DLQ."""
    sqs = _sqs(running)
    sqs.send_message(
        QueueUrl=running["stack"]["resources"]["SyncDeadLetterQueue"],
        MessageBody=SyncRequest(
            connection=CONNECTION, entity_type="product", entity_id=product_id
        ).model_dump_json(),
        MessageAttributes={"error_code": {"DataType": "String", "StringValue": "destination_5xx"}},
    )


def test_local_start_says_where_its_aws_and_its_stores_are(scenario: Scenario) -> None:
    assert any(line.startswith("aws        http://127.0.0.1:") for line in scenario.lines)
    stores = [line.split() for line in scenario.lines if line.startswith("store ")]
    assert [(s[1], s[2].startswith("http://127.0.0.1:")) for s in stores] == [
        ("storea", True),
        ("storeb", True),
        ("storec", True),
        ("stored", True),
    ]


def test_status_reports_the_running_stack_s_entities_and_queue_depths(scenario: Scenario) -> None:
    assert scenario.status["entities"]["product"] == {"in_sync": 1, "not_in_sync": 0, "deleted": 0}
    assert scenario.status["queues"] == {
        "SyncQueue": 0,
        "SyncDeadLetterQueue": 1,
        "FullSyncContinuationQueue": 0,
    }


def test_redrive_lists_then_moves_the_running_stack_s_dead_letters(scenario: Scenario) -> None:
    assert scenario.redrive_dry_run.returncode == 0, scenario.redrive_dry_run.stderr
    assert "would move" in scenario.redrive_dry_run.stdout
    assert "[destination_5xx]" in scenario.redrive_dry_run.stdout
    assert json.loads(scenario.redrive.stdout.splitlines()[-1]) == {"dry_run": False, "messages": 1}
    assert scenario.final_status["queues"]["SyncDeadLetterQueue"] == 0


def test_replay_reenqueues_from_the_running_stack_s_stored_events(scenario: Scenario) -> None:
    assert scenario.replay.returncode == 0, scenario.replay.stderr
    assert json.loads(scenario.replay.stdout) == {"replayed": 1}


def test_full_sync_runs_against_the_running_stack_s_stores(scenario: Scenario) -> None:
    assert scenario.full_sync.returncode == 0, scenario.full_sync.stderr
    result = json.loads(scenario.full_sync.stdout.strip().splitlines()[-1])
    assert (result["state"], result["seen"], result["errors"]) == ("done", 1, 0)
    assert scenario.final_status["full_sync"]["state"] == "done"


def test_after_everything_the_running_stack_is_in_sync_with_empty_queues(scenario: Scenario) -> None:
    assert scenario.final_status["in_sync"] is True
    assert scenario.final_status["entities"]["product"]["in_sync"] == 1
    assert set(scenario.final_status["queues"].values()) == {0}


def test_once_local_start_stops_status_says_no_local_stack_is_running(scenario: Scenario) -> None:
    assert scenario.start_exit == 0
    assert scenario.after_stop.returncode == 2
    assert "no local stack is running" in scenario.after_stop.stderr


def test_drift_agrees_with_a_synced_stack_and_finds_an_edit_made_behind_its_back(scenario: Scenario) -> None:
    clean = json.loads(scenario.drift_clean.stdout)
    assert scenario.drift_clean.returncode == 0, scenario.drift_clean.stderr
    assert (clean["in_sync"], clean["compared"], clean["drifted"]) == (True, 1, [])

    drifted = json.loads(scenario.drift_after_edit.stdout)
    assert scenario.drift_after_edit.returncode == 1
    [entry] = drifted["drifted"]
    assert (entry["kind"], entry["sku"]) == ("differs", "MUG-1")
    assert entry["fields"] == {"price": {"source": 9.5, "destination": 1.25}}
