"""`catalog-sync`: the docker-free local runtime and operations commands.

catalog-sync local invoke <LogicalId> --event <file>   # like `sam local invoke <LogicalId> -e <file>`
catalog-sync local start [--port 3000]                  # HTTP API + queue pollers + schedules
catalog-sync local generate-event webhook ...           # a freshly signed webhook event
catalog-sync demo                                       # the end-to-end demo
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click


@click.group()
def main() -> None:
    """catalog-sync: keep product catalogs in sync between commerce systems."""


@main.group()
def local() -> None:
    """Run the stack from template.yaml on this machine (embedded moto, store simulators, no Docker)."""


@local.command("invoke")
@click.argument("logical_id")
@click.option("--event", "-e", "event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--template", "-t", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--parameter-overrides", multiple=True, help="Key=Value template parameters.")
def invoke(
    logical_id: str, event_file: Path | None, template: Path | None, parameter_overrides: tuple[str, ...]
) -> None:
    """Invoke one function once with an event file; print its return value as JSON on the last line."""
    from catalog_sync_local.sandbox import TEMPLATE, Sandbox

    event = _read_event(event_file)
    with Sandbox(
        template_path=template or TEMPLATE,
        parameter_overrides=_parameters(parameter_overrides),
        register_webhooks=False,
    ) as sandbox:
        if logical_id not in sandbox.stack.functions:
            known = ", ".join(sorted(sandbox.stack.functions))
            raise click.UsageError(f"no function '{logical_id}' in the template; functions: {known}")
        result = sandbox.runtime.invoke(logical_id, event)
    click.echo(json.dumps(result, default=str))


@local.command("start")
@click.option("--port", default=3000, show_default=True, help="Port of the HTTP API on 127.0.0.1.")
@click.option("--poll-interval", default=1.0, show_default=True, help="Seconds between queue polls.")
@click.option("--schedules/--no-schedules", default=False, help="Also fire each schedule on its own rate.")
@click.option("--max-seconds", default=0.0, help="Stop after this long (0 = until Ctrl-C).")
def start(port: int, poll_interval: float, schedules: bool, max_seconds: float) -> None:
    """Serve the HTTP API, poll the queues into their consumers and (optionally) run the schedules."""
    from catalog_sync_local.sandbox import Sandbox
    from catalog_sync_local.scheduler import Scheduler

    with Sandbox(api_port=port) as sandbox:
        click.echo(f"HTTP API   {sandbox.api.url}  (POST /webhooks/{{connection}})")
        for name, store in sandbox.stores.items():
            click.echo(f"store {name:<8} {store.v3_base}")
        scheduler = Scheduler(sandbox.runtime, sandbox.stack) if schedules else None
        started = time.monotonic()
        try:
            while not max_seconds or time.monotonic() - started < max_seconds:
                report = sandbox.settle(max_rounds=5, max_seconds=30)
                if report.received:
                    click.echo(f"synced batch: {report.succeeded} ok, {report.failed} failed")
                if scheduler is not None:
                    for fired in scheduler.due():
                        click.echo(f"schedule fired: {fired}")
                time.sleep(poll_interval)
        except KeyboardInterrupt:
            click.echo("stopping")


@main.command()
def demo() -> None:
    """Two simulated BigCommerce stores, the local stack, and a live sync from store A to store B."""
    from catalog_sync_local.demo import run_demo

    sys.exit(run_demo())


def _read_event(event_file: Path | None) -> dict[str, Any]:
    text = event_file.read_text() if event_file else (sys.stdin.read() if not sys.stdin.isatty() else "{}")
    try:
        event = json.loads(text or "{}")
    except ValueError as exc:
        raise click.BadParameter(f"event is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        raise click.BadParameter("event must be a JSON object")
    return event


def _parameters(pairs: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"parameter override '{pair}' is not Key=Value")
        result[key] = value
    return result


# Command groups that live in their own modules (one concern each).
from catalog_sync_local.cli_events import generate_event  # noqa: E402

local.add_command(generate_event)
