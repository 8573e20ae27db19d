"""`local start` runs its functions in worker processes and leaves none behind when it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from catalog_sync_local.demo.sample_events import webhook_event
from catalog_sync_local.runtime.running_stack import STACK_FILE_VARIABLE

CLI = Path(sys.executable).with_name("catalog-sync")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_its_workers_answer_side_by_side_and_all_stop_with_it(tmp_path: Path, stop: signal.Signals) -> None:
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [str(CLI), "local", "start", "--port", "0", "--max-seconds", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, STACK_FILE_VARIABLE: str(tmp_path / "stack.json")},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not any(line.startswith("stack file") for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        api_url = next(line.split()[2] for line in lines if line.startswith("HTTP API"))
        event = webhook_event("store-a-to-b", "store/product/updated", 1)
        answer = requests.post(
            f"{api_url}/webhooks/store-a-to-b", data=event["body"], headers=event["headers"], timeout=60
        )
        deadline = time.monotonic() + 60
        synced = "SyncConsumerFunction: batch"
        while not any(synced in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(process.pid)  # moto, a receiver and a consumer at least

        process.send_signal(stop)
        returncode = process.wait(timeout=60)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait(10)

    assert answer.status_code == 200
    assert len(workers) >= 3
    assert returncode == 0
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived local start"
