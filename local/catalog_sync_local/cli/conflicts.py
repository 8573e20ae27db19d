"""`catalog-sync conflicts list | show | resolve`: a two-way connection's conflicts, and a person's decision.

A conflict is a merged field changed at both sides to different values (catalog_sync.merge); the engine
stores each one (catalog_sync.store.conflicts): settled by its field's rule, or held open (`manual`)
until someone resolves it here. `resolve` runs the connection's own engine (TwoWaySync.resolve, through
the handlers' wiring: under the entity's lease, writing the stores) in this process, against the stack
`ops_target` finds, as `status` does: the running `local start`, or `--stack-name` for a deployed one.

Every refusal (unknown or one-way connection, a malformed id, no such open conflict, a value of the wrong
type) is one line and exit code 2.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from catalog_sync_local.cli.ops import Ops, _target_options, ops_target

if TYPE_CHECKING:
    from catalog_sync.store.changelog import Change
    from catalog_sync.store.conflicts import ConflictRecord

# The merged fields' value types (catalog_sync.two_way_sides normalises both sides to these); any other
# merged field is text.
NUMBER_FIELDS = frozenset({"price", "sale_price"})
INTEGER_FIELDS = frozenset({"inventory_level"})
FLAG_FIELDS = frozenset({"is_visible", "is_active"})
CELL_CHARS = 32  # a table cell's widest value; `show` prints whole values


class ConflictsError(click.ClickException):
    exit_code = 2


def parse_value(field: str, raw: str) -> Any:
    """`--value`: JSON when it parses (12.5 a number, true a flag, "12" a string), else the text itself,
    checked against the field's type. ConflictsError names the type expected."""
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    if field in NUMBER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConflictsError(f"{field} takes a number, e.g. --value 12.5 (got {raw!r})")
        if value < 0:
            raise ConflictsError(f"{field} cannot be negative (got {raw!r})")
        return round(float(value), 2)
    if field in INTEGER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConflictsError(f"{field} takes a whole number, e.g. --value 7 (got {raw!r})")
        return value
    if field in FLAG_FIELDS:
        if not isinstance(value, bool):
            raise ConflictsError(f"{field} takes true or false (got {raw!r})")
        return value
    if not isinstance(value, str):
        raise ConflictsError(f"{field} takes text; quote it as a JSON string, e.g. --value '\"{raw}\"'")
    return value


def _two_way(ops: Ops, name: str) -> Any:
    """The connection, if it is two-way (only two-way connections have conflicts)."""
    try:
        connection = ops.connection(name)
    except click.ClickException as exc:
        raise ConflictsError(exc.message) from None
    if not connection.two_way:
        raise ConflictsError(f"connection '{name}' is one-way: it has no conflicts (direction: two-way has)")
    return connection


def _conflict_key(connection: Any, conflict_id: str) -> tuple[str, int, str]:
    from catalog_sync.store.conflicts import parse_conflict_id

    try:
        entity_type, source_id, field = parse_conflict_id(conflict_id)
    except ValueError as exc:
        raise ConflictsError(f"{exc}, e.g. product/12/price") from None
    merged = connection.merge_rules()
    if entity_type != "product" or field not in merged:
        raise ConflictsError(
            f"'{conflict_id}' names no conflict of '{connection.name}': conflicts are on products' merged "
            f"fields ({', '.join(merged)})"
        )
    return entity_type, source_id, field


# --- output -------------------------------------------------------------------------------------------


def _iso(epoch_s: float | None) -> str | None:
    from catalog_sync.sync_status import iso_time

    return None if epoch_s is None else iso_time(epoch_s)


def record_json(record: ConflictRecord) -> dict[str, Any]:
    """Every stored detail of a conflict, times as ISO-8601 UTC."""
    document = record.to_json()
    document["detected_at"] = _iso(record.detected_at)
    document["resolved_at"] = _iso(record.resolved_at)
    return document


def _cell(value: Any) -> str:
    text = json.dumps(value, default=str) if value is not None else "-"
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def conflicts_table(records: list[ConflictRecord]) -> str:
    """One line per conflict under a header, columns as wide as their widest cell."""
    header = ("ID", "STATUS", "RULE", "OUTCOME", "BASE", "SOURCE", "DESTINATION", "DETECTED (UTC)")
    rows = [
        (
            r.conflict_id,
            r.status,
            r.rule,
            r.outcome,
            _cell(r.base),
            _cell(r.source_value),
            _cell(r.destination_value),
            (_iso(r.detected_at) or "").replace("+00:00", ""),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)
    )


def conflict_details(record: ConflictRecord) -> str:
    """Every stored detail of one conflict, one per line."""

    def value(v: Any) -> str:
        return json.dumps(v, default=str) if v is not None else "-"

    lines = [
        ("status", record.status),
        ("field", record.field),
        ("rule", record.rule),
        ("outcome", record.outcome),
        ("base", value(record.base)),
        ("source value", value(record.source_value)),
        ("source modified", record.source_modified or "-"),
        ("destination value", value(record.destination_value)),
        ("destination modified", record.destination_modified or "-"),
        ("destination id", value(record.dest_id)),
        ("detected at", _iso(record.detected_at) or "-"),
        ("resolved at", _iso(record.resolved_at) or "-"),
        ("resolution", value(record.resolution)),
    ]
    return "\n".join([f"{record.conflict_id} ({record.connection})"] + [f"  {k:<21} {v}" for k, v in lines])


def _ordered(records: list[ConflictRecord]) -> list[ConflictRecord]:
    """Open ones first, oldest first (the longest waiting); then the history, newest first."""
    waiting = sorted((r for r in records if r.status == "open"), key=lambda r: (r.detected_at, r.conflict_id))
    history = sorted(
        (r for r in records if r.status != "open"), key=lambda r: r.resolved_at or r.detected_at, reverse=True
    )
    return waiting + history


# --- resolving: the handlers' wiring over the stack's resources -----------------------------------------


class RecordedChanges:
    """The audit trail, remembering what this process recorded: which fields a resolve wrote."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self.recorded: list[Change] = []

    def record(self, change: Change) -> None:
        self.log.record(change)
        self.recorded.append(change)


def stack_services(ops: Ops) -> Any:
    """catalog_sync.services.Services over the stack's resources, with the command's AWS session."""
    from catalog_sync.services import Services
    from catalog_sync.settings import Settings
    from catalog_sync.store.changelog import ChangeLog

    class StackServices(Services):
        def client(self, service: str) -> Any:
            return ops.client(service)

        @cached_property
        def changes(self) -> Any:
            return RecordedChanges(ChangeLog(self.settings.state_table, self.client("dynamodb")))

    resources: Mapping[str, str] = ops.resources
    settings = Settings(
        events_table=resources["EventsTable"],
        state_table=resources["SyncStateTable"],
        queue_url=resources["SyncQueue"],
        connections_secret_id=resources["ConnectionsSecret"],
        dead_letter_queue_url=resources.get("SyncDeadLetterQueue"),
    )
    return StackServices(settings)


def resolve(
    ops: Ops, name: str, conflict_id: str, *, take: str | None, raw_value: str | None
) -> dict[str, Any]:
    """Settle an open conflict through the connection's engine (`take` a side, or `raw_value` parsed for
    the field); what was chosen and written."""
    from catalog_sync.errors import CatalogSyncError

    connection = _two_way(ops, name)
    entity_type, source_id, field = _conflict_key(connection, conflict_id)
    value = parse_value(field, raw_value) if raw_value is not None else None
    if ops.conflicts().get_open(name, entity_type, source_id, field) is None:
        raise ConflictsError(
            f"no open conflict {conflict_id} on '{name}' (catalog-sync conflicts list --connection {name})"
        )
    services = stack_services(ops)
    try:
        engine = services.engine(name, owner=f"catalog-sync-cli-{uuid.uuid4().hex[:12]}", deadline=None)
        resolution = engine.resolve(source_id, field, take=take, value=value)
    except CatalogSyncError as exc:  # settled meanwhile, a side gone, the entity busy (its lease held)
        raise ConflictsError(f"{conflict_id} not resolved: {exc}") from None
    took = take or "value"
    return {"id": conflict_id, "value": resolution.value, "took": took, "written": list(resolution.written)}


# --- commands -----------------------------------------------------------------------------------------


@click.group("conflicts", epilog="\b\nExample:\n  catalog-sync conflicts list --connection store-c-and-d")
def conflicts_group() -> None:
    """A two-way connection's conflicts: fields changed at both sides to different values."""


@conflicts_group.command(
    "list", epilog="\b\nExample:\n  catalog-sync conflicts list --connection store-c-and-d --all"
)
@click.option("--connection", required=True)
@click.option("--all", "include_settled", is_flag=True, help="Also the settled and resolved ones (90 days).")
@click.option("--json", "as_json", is_flag=True, help="JSON: every stored detail of each conflict.")
@_target_options
def list_command(
    connection: str, include_settled: bool, as_json: bool, profile: str | None, stack_name: str | None
) -> None:
    """CONNECTION's open conflicts, oldest first (with --all, then its history, newest first)."""
    with ops_target(profile, stack_name) as ops:
        _two_way(ops, connection)
        records = _ordered(ops.conflicts().list(connection, include_settled=include_settled))
    if as_json:
        click.echo(json.dumps([record_json(r) for r in records], indent=2, default=str))
    elif not records:
        click.echo(f"no {'' if include_settled else 'open '}conflicts on {connection}")
    else:
        click.echo(conflicts_table(records))


@conflicts_group.command(
    "show",
    epilog="\b\nExample:\n  catalog-sync conflicts show --connection store-c-and-d --id product/12/price",
)
@click.option("--connection", required=True)
@click.option(
    "--id", "conflict_id", required=True, help="<entity type>/<source id>/<field>, e.g. product/12/price"
)
@click.option("--json", "as_json", is_flag=True)
@_target_options
def show_command(
    connection: str, conflict_id: str, as_json: bool, profile: str | None, stack_name: str | None
) -> None:
    """Every stored detail of a conflict: the base, both values and modification times, the rule, the
    outcome, its status and times; the open one first, then the same field's history."""
    with ops_target(profile, stack_name) as ops:
        configured = _two_way(ops, connection)
        entity_type, source_id, field = _conflict_key(configured, conflict_id)
        store = ops.conflicts()
        found = store.get_open(connection, entity_type, source_id, field)
        records = ([found] if found else []) + store.history(connection, entity_type, source_id, field)
    if not records:
        raise ConflictsError(f"no conflict {conflict_id} on '{connection}'")
    if as_json:
        click.echo(json.dumps([record_json(r) for r in records], indent=2, default=str))
    else:
        click.echo("\n\n".join(conflict_details(r) for r in records))


@conflicts_group.command(
    "resolve",
    epilog=(
        "\b\nExample:\n  catalog-sync conflicts resolve --connection store-c-and-d --id product/12/price "
        "--take source\n  catalog-sync conflicts resolve --connection store-c-and-d --id product/12/price "
        "--value 12.5"
    ),
)
@click.option("--connection", required=True)
@click.option(
    "--id", "conflict_id", required=True, help="<entity type>/<source id>/<field>, e.g. product/12/price"
)
@click.option(
    "--take", type=click.Choice(["source", "destination"]), default=None, help="Keep that side's value."
)
@click.option("--value", "raw_value", default=None, help="Write this value to both sides (JSON, else text).")
@_target_options
def resolve_command(
    connection: str,
    conflict_id: str,
    take: str | None,
    raw_value: str | None,
    profile: str | None,
    stack_name: str | None,
) -> None:
    """Settle an open conflict: take one side's current value or give one; it is written to the side(s)
    lacking it, becomes the field's base, and the conflict is closed."""
    if (take is None) == (raw_value is None):
        raise ConflictsError("give one of --take source|destination or --value V")
    with ops_target(profile, stack_name) as ops:
        result = resolve(ops, connection, conflict_id, take=take, raw_value=raw_value)
    where = ", ".join(result["written"]) or "nothing (both sides already held it)"
    click.echo(f"resolved {conflict_id} = {json.dumps(result['value'])} ({result['took']}); wrote {where}")
    click.echo(json.dumps(result, default=str))
