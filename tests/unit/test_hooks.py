"""Webhook registration is reconciled idempotently against the simulated store (never delete-all)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr

from catalog_sync.connections import BigCommerceEndpoint
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.hooks import reconcile_hooks
from catalog_sync_local.bigcommerce_sim import BigCommerceStore
from catalog_sync_local.cli import main

SCOPES = ["store/product/*", "store/category/*", "store/sku/*"]
URL = "https://api.example.test/webhooks/a-to-b"


@pytest.fixture
def store() -> Iterator[BigCommerceStore]:
    with BigCommerceStore("storea", "token-a", quota=10_000) as running:
        yield running


def client(store: BigCommerceStore) -> BigCommerceClient:
    return BigCommerceClient.for_endpoint(
        BigCommerceEndpoint(store_hash="storea", access_token=SecretStr("token-a"), api_url=store.api_url)
    )


def ours(store: BigCommerceStore) -> list[tuple[str, str, bool]]:
    return sorted((h["scope"], h["destination"], h["is_active"]) for h in store.webhooks())


def test_missing_hooks_are_created_and_a_second_run_changes_nothing(store: BigCommerceStore) -> None:
    plan = reconcile_hooks(client(store), SCOPES, URL, connection="a-to-b")
    assert plan.create == SCOPES
    assert ours(store) == sorted((s, URL, True) for s in SCOPES)

    mark = len(store.request_log)
    again = reconcile_hooks(client(store), SCOPES, URL, connection="a-to-b")
    assert again.changes == 0
    assert [m for m, _, _ in store.request_log[mark:]] == ["GET"]


def test_inactive_stale_and_duplicate_hooks_are_repaired_in_place(store: BigCommerceStore) -> None:
    api = client(store)
    product = api.create_hook({"scope": "store/product/*", "destination": URL, "is_active": False})
    moved = api.create_hook({"scope": "store/category/*", "destination": "https://old.test/webhooks/a-to-b"})
    dup = api.create_hook({"scope": "store/category/*", "destination": "https://old2.test/webhooks/a-to-b"})
    gone = api.create_hook({"scope": "store/order/*", "destination": URL})
    foreign = api.create_hook({"scope": "store/product/*", "destination": "https://other-app.test/hook"})

    plan = reconcile_hooks(api, SCOPES, URL, connection="a-to-b")

    assert (plan.reactivate, plan.update, plan.create) == ([product["id"]], [moved["id"]], ["store/sku/*"])
    assert sorted(plan.delete) == sorted([dup["id"], gone["id"]])
    hooks = {h["id"]: h for h in store.webhooks()}
    assert hooks[product["id"]]["is_active"] is True  # the same hook, not a new one
    assert hooks[moved["id"]]["destination"] == URL
    assert foreign["id"] in hooks  # another app's hook is never touched
    assert not any(m == "DELETE" and p.endswith(str(foreign["id"])) for m, p, _ in store.request_log)


def test_dry_run_reports_without_writing(store: BigCommerceStore) -> None:
    plan = reconcile_hooks(client(store), SCOPES, URL, connection="a-to-b", dry_run=True)
    assert plan.create == SCOPES
    assert store.webhooks() == []


def test_the_cli_reconciles_a_connections_hooks(store: BigCommerceStore, tmp_path: Path) -> None:
    document = {
        "connections": {
            "a-to-b": {
                "source": {"store_hash": "storea", "access_token": "token-a", "api_url": store.api_url},
                "destination": {"store_hash": "storeb", "access_token": "token-b", "api_url": store.api_url},
                "signing": {"secrets": ["whsec_dGVzdA=="]},
                "scopes": SCOPES,
            }
        }
    }
    path = tmp_path / "connections.yaml"
    path.write_text(yaml.safe_dump(document))
    args = [
        "hooks",
        "sync",
        "--connection",
        "a-to-b",
        "--connections",
        str(path),
        "--webhook-url",
        "https://api.example.test",
    ]

    dry = CliRunner().invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output.strip().splitlines()[-1])["create"] == SCOPES
    assert store.webhooks() == []

    real = CliRunner().invoke(main, args)
    assert real.exit_code == 0, real.output
    assert ours(store) == sorted((s, URL, True) for s in SCOPES)
