"""`catalog-sync hooks sync --connection X --webhook-url URL [--dry-run]`: reconcile the source store's
webhooks for the scopes the connection syncs (catalog_sync/hooks.py: keep, create, reactivate, update;
never delete-all-then-create). BigCommerce: a hook per scope; Pixlpay: one webhook listing the events.
Connections come from a connections document (default: the local one; for a deployed stack, pass the
same JSON document the ConnectionsSecret holds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

DEFAULT_CONNECTIONS = Path(__file__).resolve().parents[3] / "config" / "connections.local.yaml"


@click.group("hooks", epilog="\b\nExample:\n  catalog-sync hooks sync --connection store-a-to-b --dry-run")
def hooks() -> None:
    """Webhook registrations on source stores."""


@hooks.command(
    "sync",
    epilog=(
        "\b\nExample:\n  catalog-sync hooks sync --connection store-a-to-b --connections "
        "connections.json \\\n      --webhook-url "
        "https://<api-id>.execute-api.<region>.amazonaws.com --dry-run"
    ),
)
@click.option("--connection", "connection_name", required=True, help="Connection name in the document.")
@click.option(
    "--webhook-url",
    default="http://127.0.0.1:3000",
    show_default=True,
    help="Base URL of the HTTP API (the stack's WebhookApiUrl); hooks point at <url>/webhooks/<connection>.",
)
@click.option(
    "--connections",
    "connections_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_CONNECTIONS,
    show_default=True,
    help="Connections document (YAML or JSON).",
)
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pixlpay: where to write a newly created webhook's signing secret (mode 0600) instead of stderr.",
)
def sync_hooks(
    connection_name: str, webhook_url: str, connections_path: Path, dry_run: bool, secret_file: Path | None
) -> None:
    """Make the source store hold exactly one active hook per scope, pointing at this connection
    (Pixlpay: one webhook subscribed to the connection's product events)."""
    from catalog_sync.connections import BigCommerceEndpoint, ConnectionsDocument, PixlpayEndpoint
    from catalog_sync.connectors.bigcommerce import BigCommerceClient
    from catalog_sync.errors import CatalogSyncError
    from catalog_sync.hooks import reconcile_hooks, route_suffix

    try:
        document = ConnectionsDocument.parse(yaml.safe_load(connections_path.read_text()))
        connection = document.get(connection_name)
    except CatalogSyncError as exc:
        raise click.UsageError(str(exc)) from None
    destination = webhook_url.rstrip("/") + route_suffix(connection_name)
    if isinstance(connection.source, PixlpayEndpoint):
        _sync_pixlpay(connection, destination, dry_run, secret_file)
        return
    if not isinstance(connection.source, BigCommerceEndpoint):
        raise click.UsageError(f"{connection_name}: no webhook registration for {connection.source.kind}")
    headers = None
    if connection.signing.scheme == "bigcommerce-legacy":
        headers = {connection.signing.header_name: connection.signing.secrets[0].get_secret_value()}
    client = BigCommerceClient.for_endpoint(connection.source)
    try:
        plan = reconcile_hooks(
            client,
            connection.scopes,
            destination,
            connection=connection_name,
            headers=headers,
            dry_run=dry_run,
        )
    except CatalogSyncError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    click.echo(json.dumps({"connection": connection_name, "destination": destination, "dry_run": dry_run,
                           **plan.summary()}))  # fmt: skip


def _sync_pixlpay(connection: Any, destination: str, dry_run: bool, secret_file: Path | None) -> None:
    from catalog_sync.connectors.pixlpay import PixlpayClient
    from catalog_sync.errors import CatalogSyncError
    from catalog_sync.hooks import PIXLPAY_PRODUCT_EVENTS, reconcile_event_hooks

    events = [e for e in PIXLPAY_PRODUCT_EVENTS if connection.syncs_scope(e)]
    try:
        plan, secret = reconcile_event_hooks(
            PixlpayClient.for_endpoint(connection.source),
            events,
            destination,
            connection=connection.name,
            dry_run=dry_run,
        )
    except CatalogSyncError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
    click.echo(json.dumps({"connection": connection.name, "destination": destination, "dry_run": dry_run,
                           "events": events, **plan.summary()}))  # fmt: skip
    if secret is None:
        return
    notice = f"Pixlpay shows this secret once: add it to signing.secrets of '{connection.name}'"
    if secret_file is not None:
        secret_file.touch(mode=0o600, exist_ok=True)
        secret_file.chmod(0o600)
        secret_file.write_text(secret + "\n")
        click.echo(f"{notice} (written to {secret_file})", err=True)
    else:
        click.echo(f"{notice}: {secret}", err=True)


def register_hooks(main: click.Group) -> None:
    main.add_command(hooks)
