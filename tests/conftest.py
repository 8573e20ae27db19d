"""Shared fixtures: fake AWS credentials (never real AWS), paths to the shared reference material."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CATALOG_SYNC_SHARED", REPO.parent / "shared"))
BC_WEBHOOK_SAMPLES = SHARED / "reference" / "bigcommerce" / "webhooks"
EVENTS = REPO / "events"


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
