"""`catalog-sync local generate-event`: events in the shapes `sam local invoke` expects, signed with the
local test secrets from config/connections.local.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("generate-event")
def generate_event() -> None:
    """Generate events in the shapes `sam local invoke` expects, signed with the local test secrets."""


@generate_event.command("webhook")
@click.option("--connection", default="store-a-to-b", show_default=True)
@click.option("--scope", default="store/product/updated", show_default=True)
@click.option("--id", "entity_id", type=int, default=1, show_default=True)
@click.option("--product-id", type=int, default=None, help="For store/sku/* scopes.")
@click.option("--base64", "base64_body", is_flag=True, help="Base64-encode the body, as API Gateway may.")
def generate_webhook(
    connection: str, scope: str, entity_id: int, product_id: int | None, base64_body: bool
) -> None:
    from catalog_sync_local.sample_events import webhook_event

    event = webhook_event(connection, scope, entity_id, product_id=product_id, base64_body=base64_body)
    click.echo(json.dumps(event, indent=2))


@generate_event.command("samples")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None)
def generate_samples(folder: Path | None) -> None:
    """Rewrite the committed events/ folder."""
    from catalog_sync_local.sample_events import write_samples

    for path in write_samples(folder) if folder else write_samples():
        click.echo(str(path))
