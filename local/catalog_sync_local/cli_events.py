"""`catalog-sync local generate-event`: events in the shapes `sam local invoke` expects, signed with the
local test secrets from config/connections.local.yaml. A webhook takes the shape and signing of its
connection's source: BigCommerce (`store/...` scopes, Standard Webhooks) or Pixlpay (`product.*` events,
`X-Pixlpay-Signature`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click


@click.group(
    "generate-event",
    epilog="\b\nExample:\n  catalog-sync local generate-event webhook --scope store/product/updated --id 101",
)
def generate_event() -> None:
    """Generate events in the shapes `sam local invoke` expects, signed with the local test secrets."""


@generate_event.command(
    "webhook",
    epilog=(
        "\b\nExample:\n  catalog-sync local generate-event webhook --connection "
        "pixlpay-to-medusa --scope product.deleted --id 1"
    ),
)
@click.option(
    "--connection",
    default="store-a-to-b",
    show_default=True,
    help="A connection of config/connections.local.yaml, e.g. pixlpay-to-medusa for a Pixlpay event.",
)
@click.option(
    "--scope",
    default=None,
    help="BigCommerce scope (default store/product/updated) or Pixlpay event type (default product.updated).",
)
@click.option("--id", "entity_id", type=int, default=1, show_default=True)
@click.option("--product-id", type=int, default=None, help="For store/sku/* scopes.")
@click.option("--base64", "base64_body", is_flag=True, help="Base64-encode the body, as API Gateway may.")
def generate_webhook(
    connection: str, scope: str | None, entity_id: int, product_id: int | None, base64_body: bool
) -> None:
    from catalog_sync_local.sample_events import default_scope, source_kind, webhook_event

    try:
        kind = source_kind(connection)
    except KeyError:
        raise click.BadParameter(
            f"no connection '{connection}' in config/connections.local.yaml", param_hint="--connection"
        ) from None
    scope = scope or default_scope(kind)
    if kind == "pixlpay" and not re.fullmatch(r"[a-z_]+\.[a-z_]+", scope):
        raise click.BadParameter(
            f"'{connection}' has a Pixlpay source: its events look like product.updated, not '{scope}'",
            param_hint="--scope",
        )
    if kind == "bigcommerce" and not scope.startswith("store/"):
        raise click.BadParameter(
            f"'{connection}' has a BigCommerce source: its scopes look like store/product/updated, "
            f"not '{scope}'",
            param_hint="--scope",
        )
    event = webhook_event(connection, scope, entity_id, product_id=product_id, base64_body=base64_body)
    click.echo(json.dumps(event, indent=2))


@generate_event.command("samples", epilog="\b\nExample:\n  catalog-sync local generate-event samples")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None)
def generate_samples(folder: Path | None) -> None:
    """Rewrite the committed events/ folder."""
    from catalog_sync_local.sample_events import write_samples

    for path in write_samples(folder) if folder else write_samples():
        click.echo(str(path))
