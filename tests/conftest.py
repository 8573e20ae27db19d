"""Shared fixtures: fake AWS credentials (never real AWS), paths to the shared reference material."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CATALOG_SYNC_SHARED", REPO.parent / "shared"))
BC_WEBHOOK_SAMPLES = SHARED / "reference" / "bigcommerce" / "webhooks"
EVENTS = REPO / "events"


@pytest.fixture(scope="session", autouse=True)
def _no_running_local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Ops commands look for a running `local start` through a stack file: the tests' is their own (a
    developer's running stack is never touched; a test that starts one names its own file)."""
    from catalog_sync_local.running_stack import STACK_FILE_VARIABLE

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STACK_FILE_VARIABLE, str(tmp_path_factory.getbasetemp() / "no-local-stack.json"))
        yield


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
