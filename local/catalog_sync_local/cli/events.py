"""`catalog-sync local generate-event`: events in the shapes `sam local invoke` expects, signed with the
local test secrets from config/connections.local.yaml. A webhook takes the shape and signing of its
connection's source: BigCommerce (`store/...` scopes, Standard Webhooks) or Pixlpay (`product.*` events,
`X-Pixlpay-Signature`); with `--side destination`, of a two-way connection's destination: BigCommerce, or
our Medusa subscriber (`product.*` events, `--id prod_...`), signed with Standard Webhooks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the CLI imports the domain only when a command runs
    from catalog_sync.sync_request import Side


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
        "pixlpay-to-medusa --scope product.deleted --id 1\n"
        "  catalog-sync local generate-event webhook --connection pixlpay-and-medusa --side destination "
        "--id prod_01JF8Z3Q4V5W6X7Y8Z9A0B1C2D"
    ),
)
@click.option(
    "--connection",
    default="store-a-to-b",
    show_default=True,
    help="A connection of config/connections.local.yaml, e.g. pixlpay-to-medusa for a Pixlpay event.",
)
@click.option(
    "--side",
    type=click.Choice(["source", "destination"]),
    default="source",
    show_default=True,
    help="destination: a two-way connection's destination webhook (POST /webhooks/{connection}/destination).",
)
@click.option(
    "--scope",
    default=None,
    help="BigCommerce scope (default store/product/updated) or Pixlpay/Medusa event type "
    "(default product.updated).",
)
@click.option(
    "--id",
    "entity_id",
    default=None,
    help="The entity's id at the sending side: a number (default 1), or for Medusa a prod_... id.",
)
@click.option("--product-id", type=int, default=None, help="For store/sku/* scopes.")
@click.option("--external-id", default=None, help="For Medusa: the product's external_id, e.g. pixlpay_1.")
@click.option("--base64", "base64_body", is_flag=True, help="Base64-encode the body, as API Gateway may.")
def generate_webhook(
    connection: str,
    side: Side,
    scope: str | None,
    entity_id: str | None,
    product_id: int | None,
    external_id: str | None,
    base64_body: bool,
) -> None:
    from catalog_sync_local.demo.sample_events import (
        SAMPLE_MEDUSA_PRODUCT,
        default_scope,
        endpoint_kind,
        is_two_way,
        webhook_event,
    )

    try:
        kind = endpoint_kind(connection, side)
        two_way = is_two_way(connection)
    except KeyError:
        raise click.BadParameter(
            f"no connection '{connection}' in config/connections.local.yaml", param_hint="--connection"
        ) from None
    if side == "destination" and not two_way:
        raise click.BadParameter(
            f"'{connection}' is one-way: its destination sends no webhooks (two-way connections: "
            "direction: two-way)",
            param_hint="--side",
        )
    scope = scope or default_scope(kind)
    _check_scope(connection, side, kind, scope)
    entity: int | str = _entity_id(kind, entity_id or (SAMPLE_MEDUSA_PRODUCT if kind == "medusa" else "1"))
    event = webhook_event(
        connection,
        scope,
        entity,
        side=side,
        product_id=product_id,
        external_id=external_id,
        base64_body=base64_body,
    )
    click.echo(json.dumps(event, indent=2))


def _check_scope(connection: str, side: Side, kind: str, scope: str) -> None:
    if kind in ("pixlpay", "medusa") and not re.fullmatch(r"[a-z_]+\.[a-z_]+", scope):
        raise click.BadParameter(
            f"'{connection}' has a {_NAMES[kind]} {side}: its events look like product.updated, "
            f"not '{scope}'",
            param_hint="--scope",
        )
    if kind == "bigcommerce" and not scope.startswith("store/"):
        raise click.BadParameter(
            f"'{connection}' has a BigCommerce {side}: its scopes look like store/product/updated, "
            f"not '{scope}'",
            param_hint="--scope",
        )


def _entity_id(kind: str, value: str) -> int | str:
    """A Medusa id is `prod_` and letters or digits; BigCommerce and Pixlpay ids are positive numbers."""
    if kind == "medusa":
        if not re.fullmatch(r"prod_[A-Za-z0-9]{1,100}", value):
            raise click.BadParameter(
                f"a Medusa product id looks like prod_01JF8Z3Q4V5W6X7Y8Z9A0B1C2D, not '{value[:40]}'",
                param_hint="--id",
            )
        return value
    if not re.fullmatch(r"[0-9]{1,18}", value) or int(value) < 1:
        raise click.BadParameter(
            f"a {_NAMES[kind]} id is a positive number, not '{value[:40]}'", param_hint="--id"
        )
    return int(value)


_NAMES = {"bigcommerce": "BigCommerce", "pixlpay": "Pixlpay", "medusa": "Medusa"}


@generate_event.command("samples", epilog="\b\nExample:\n  catalog-sync local generate-event samples")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None)
def generate_samples(folder: Path | None) -> None:
    """Rewrite the committed events/ folder."""
    from catalog_sync_local.demo.sample_events import write_samples

    for path in write_samples(folder) if folder else write_samples():
        click.echo(str(path))
