"""`catalog-sync hooks sync --connection X --webhook-url URL [--dry-run]`: reconcile the source store's
webhooks for the scopes the connection syncs (catalog_sync/hooks.py: keep, create, reactivate, update;
never delete-all-then-create). Connections come from a connections document (default: the local one;
for a deployed stack, pass the same JSON document the ConnectionsSecret holds)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

DEFAULT_CONNECTIONS = Path(__file__).resolve().parents[2] / "config" / "connections.local.yaml"


@click.group("hooks")
def hooks() -> None:
    """Webhook registrations on source stores."""


@hooks.command("sync")
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
def sync_hooks(connection_name: str, webhook_url: str, connections_path: Path, dry_run: bool) -> None:
    """Make the source store hold exactly one active hook per scope, pointing at this connection."""
    from catalog_sync.connections import BigCommerceEndpoint, ConnectionsDocument
    from catalog_sync.connectors.bigcommerce import BigCommerceClient
    from catalog_sync.errors import CatalogSyncError
    from catalog_sync.hooks import reconcile_hooks, route_suffix

    try:
        document = ConnectionsDocument.parse(yaml.safe_load(connections_path.read_text()))
        connection = document.get(connection_name)
    except CatalogSyncError as exc:
        raise click.UsageError(str(exc)) from None
    if not isinstance(connection.source, BigCommerceEndpoint):
        raise click.UsageError(
            f"{connection_name}: webhook registration is only automated for BigCommerce sources"
        )
    headers = None
    if connection.signing.scheme == "bigcommerce-legacy":
        headers = {connection.signing.header_name: connection.signing.secrets[0].get_secret_value()}
    client = BigCommerceClient.for_endpoint(connection.source)
    destination = webhook_url.rstrip("/") + route_suffix(connection_name)
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


def register_hooks(main: click.Group) -> None:
    main.add_command(hooks)
