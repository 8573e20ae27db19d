"""Integration fixtures: the whole stack from template.yaml on moto, with two simulated stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog_sync_local.sandbox import Sandbox

CONNECTION = "store-a-to-b"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(register_webhooks=False) as box:
        yield box


@pytest.fixture
def hooked_sandbox() -> Iterator[Sandbox]:
    """Store A's webhooks registered to the local HTTP API, as `make demo` does."""
    with Sandbox(register_webhooks=True) as box:
        yield box
