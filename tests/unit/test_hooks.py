"""Webhook registration is reconciled idempotently against the simulated stores (never delete-all):
BigCommerce's hook per scope, Pixlpay's one webhook listing its events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr

from catalog_sync.connections import BigCommerceEndpoint, PixlpayEndpoint
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.connectors.pixlpay import PixlpayClient
from catalog_sync.hooks import reconcile_event_hooks, reconcile_hooks
from catalog_sync_local.cli.main import main
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore

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


def hook(scope: str, destination: str, *, active: bool = True) -> dict[str, object]:
    """A whole hook, as webhooks.v3.yml requires on create and update."""
    return {"scope": scope, "destination": destination, "is_active": active, "headers": {}}


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
    product = api.create_hook(hook("store/product/*", URL, active=False))
    moved = api.create_hook(hook("store/category/*", "https://old.test/webhooks/a-to-b"))
    dup = api.create_hook(hook("store/category/*", "https://old2.test/webhooks/a-to-b"))
    gone = api.create_hook(hook("store/order/*", URL))
    foreign = api.create_hook(hook("store/product/*", "https://other-app.test/hook"))

    plan = reconcile_hooks(api, SCOPES, URL, connection="a-to-b")

    assert (plan.reactivate, plan.update, plan.create) == ([product["id"]], [moved["id"]], ["store/sku/*"])
    assert sorted(plan.delete) == sorted([dup["id"], gone["id"]])
    hooks = {h["id"]: h for h in store.webhooks()}
    assert hooks[product["id"]]["is_active"] is True  # the same hook, not a new one
    assert hooks[moved["id"]]["destination"] == URL
    assert foreign["id"] in hooks  # another app's hook is never touched
    assert not any(m == "DELETE" and p.endswith(str(foreign["id"])) for m, p, _ in store.request_log)


def test_a_changed_legacy_secret_is_put_as_the_whole_hook(store: BigCommerceStore) -> None:
    api = client(store)
    reconcile_hooks(api, SCOPES, URL, connection="a-to-b", headers={"X-Catalog-Sync-Secret": "old"})
    plan = reconcile_hooks(api, SCOPES, URL, connection="a-to-b", headers={"X-Catalog-Sync-Secret": "new"})
    assert len(plan.update) == len(SCOPES)
    # a PUT replaces the hook (every field required): the scope and state are kept, the headers replaced
    assert sorted((h["scope"], h["is_active"], h["headers"]) for h in store.webhooks()) == [
        (scope, True, {"X-Catalog-Sync-Secret": "new"}) for scope in sorted(SCOPES)
    ]
    assert [m for m, _, _ in store.request_log].count("PUT") == len(SCOPES)


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


# --- Pixlpay: one webhook per endpoint, listing its events ----------------------------------------------

PIXLPAY_URL = "https://api.example.test/webhooks/pix-to-medusa"
EVENTS = ["product.created", "product.updated", "product.deleted"]


@pytest.fixture
def pixlpay() -> Iterator[PixlpayStore]:
    with PixlpayStore("pix-token", quota=10_000) as running:
        yield running


def pixlpay_client(store: PixlpayStore) -> PixlpayClient:
    return PixlpayClient.for_endpoint(
        PixlpayEndpoint(
            kind="pixlpay", api_url=store.api_url, api_token=SecretStr("pix-token"), max_requests_per_minute=0
        )
    )


def pixlpay_hooks(store: PixlpayStore) -> list[tuple[str, list[str], bool]]:
    return sorted((h["url"], sorted(h["events"]), h["is_active"]) for h in store.webhooks())


def test_a_pixlpay_webhook_is_created_once_and_its_secret_is_handed_back_once(pixlpay: PixlpayStore) -> None:
    api = pixlpay_client(pixlpay)

    first, secret = reconcile_event_hooks(api, EVENTS, PIXLPAY_URL, connection="pix-to-medusa")
    second, again = reconcile_event_hooks(api, EVENTS, PIXLPAY_URL, connection="pix-to-medusa")

    assert first.create == EVENTS and secret and secret.startswith("whsec_")
    assert (second.changes, again) == (0, None)
    assert pixlpay_hooks(pixlpay) == [(PIXLPAY_URL, sorted(EVENTS), True)]


def test_a_stale_inactive_or_duplicate_pixlpay_webhook_is_repaired_and_others_are_left(
    pixlpay: PixlpayStore,
) -> None:
    stale = pixlpay.create_webhook(
        "https://old-stage.example.test/webhooks/pix-to-medusa", ["product.updated"]
    )
    pixlpay.update_webhook(stale["id"], is_active=False)
    duplicate = pixlpay.create_webhook("https://old-stage.example.test/webhooks/pix-to-medusa", EVENTS)
    foreign = pixlpay.create_webhook("https://another-app.example.test/hooks", ["order.received"])

    plan, secret = reconcile_event_hooks(
        pixlpay_client(pixlpay), EVENTS, PIXLPAY_URL, connection="pix-to-medusa"
    )

    assert secret is None  # repaired in place: the connection's stored secret stays valid
    assert (plan.update, plan.delete, plan.create) == ([duplicate["id"]], [stale["id"]], [])
    assert pixlpay_hooks(pixlpay) == sorted(
        [(PIXLPAY_URL, sorted(EVENTS), True), (foreign["url"], ["order.received"], True)]
    )


def test_the_cli_registers_a_pixlpay_webhook_and_writes_its_secret_privately(
    pixlpay: PixlpayStore, tmp_path: Path
) -> None:
    document = {
        "connections": {
            "pix-to-medusa": {
                "source": {"kind": "pixlpay", "api_url": pixlpay.api_url, "api_token": "pix-token"},
                "destination": {"kind": "medusa", "api_url": "http://127.0.0.1:9", "api_key": "k"},
                "signing": {"scheme": "pixlpay", "secrets": ["old-secret"]},
            }
        }
    }
    path, secret_file = tmp_path / "connections.yaml", tmp_path / "secret.txt"
    path.write_text(yaml.safe_dump(document))
    args = ["hooks", "sync", "--connection", "pix-to-medusa", "--connections", str(path)]

    result = CliRunner().invoke(
        main, [*args, "--webhook-url", "https://api.example.test", "--secret-file", str(secret_file)]
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["events"], summary["create"]) == (EVENTS, EVENTS)
    assert secret_file.read_text().strip().startswith("whsec_")
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert secret_file.read_text().strip() not in result.output
    assert pixlpay_hooks(pixlpay) == [(PIXLPAY_URL, sorted(EVENTS), True)]
