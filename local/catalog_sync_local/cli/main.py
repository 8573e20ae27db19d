"""`catalog-sync`: the docker-free local runtime and operations commands.

catalog-sync local invoke <LogicalId> --event <file>   # like `sam local invoke <LogicalId> -e <file>`
catalog-sync local start [--port 3000] [--schedules]     # HTTP API + queue pollers (+ schedules)
catalog-sync local generate-event webhook ...           # a freshly signed webhook event
catalog-sync demo                                       # the end-to-end demo
"""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import yaml

from catalog_sync_local.cli.local_extras import require_local_stack


@click.group(
    epilog="\b\nExample:\n  catalog-sync status --connection store-a-to-b --stack-name catalog-sync-prod"
)
def main() -> None:
    """catalog-sync: keep product catalogs in sync between commerce systems."""


@main.group(epilog="\b\nExample:\n  catalog-sync local start --port 3000")
def local() -> None:
    """Run the stack from template.yaml on this machine (embedded moto, store simulators, no Docker)."""


_template_option = click.option(
    "--template",
    "-t",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="SAM template (default: the project's template.yaml).",
)
_parameter_option = click.option(
    "--parameter-overrides",
    multiple=True,
    help='Template parameters: "Key=Value Key2=Value2" as for sam, or the option repeated.',
)
_env_vars_option = click.option(
    "--env-vars",
    "-n",
    "env_vars_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='JSON as for sam: {"Parameters": {...all functions}, "<LogicalId>": {...one function}}.',
)


@local.command(
    "invoke",
    epilog=(
        "\b\nExample:\n  catalog-sync local invoke WebhookReceiverFunction -e "
        "events/webhook_receiver/product_updated.json"
    ),
)
@click.argument("logical_id")
@click.option("--event", "-e", "event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_template_option
@_parameter_option
@_env_vars_option
def invoke(
    logical_id: str,
    event_file: Path | None,
    template: Path | None,
    parameter_overrides: tuple[str, ...],
    env_vars_file: Path | None,
) -> None:
    """Invoke one function once with an event file; print its return value as JSON on the last line.

    Like `sam local invoke`, the function's own output (logs, metrics) goes to stderr."""
    require_local_stack("local invoke")
    from catalog_sync_local.runtime.sandbox import TEMPLATE, Sandbox
    from catalog_sync_local.runtime.stack import LocalStackError

    template_path = template or TEMPLATE
    _check_function(template_path, logical_id)
    event = _read_event(event_file)
    env_vars = _read_env_vars(env_vars_file)
    parameters = _parameters(parameter_overrides)
    try:
        with (
            contextlib.redirect_stdout(sys.stderr),
            Sandbox(
                template_path=template_path,
                parameter_overrides=parameters,
                register_webhooks=False,
                env_overrides=env_vars,
            ) as sandbox,
        ):
            result = sandbox.runtime.invoke(logical_id, event)
    except LocalStackError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(result, default=str))


@local.command(
    "start", epilog="\b\nExample:\n  catalog-sync local start --port 3000 --schedules --max-seconds 60"
)
@click.option("--port", default=3000, show_default=True, help="Port of the HTTP API on 127.0.0.1.")
@click.option(
    "--schedules/--no-schedules",
    default=False,
    help="Also fire each schedule on its own rate (even those the template deploys disabled).",
)
@click.option(
    "--aws-port", default=0, show_default=True, help="Port of the moto server on 127.0.0.1 (0 = any free)."
)
@click.option("--max-seconds", default=0.0, help="Stop after this long (0 = until Ctrl-C).")
@_template_option
@_parameter_option
@_env_vars_option
def start(
    port: int,
    schedules: bool,
    aws_port: int,
    max_seconds: float,
    template: Path | None,
    parameter_overrides: tuple[str, ...],
    env_vars_file: Path | None,
) -> None:
    """Serve the HTTP API, poll the queues into their consumers and (optionally) run the schedules.

    AWS is a moto server on 127.0.0.1 (the `aws` line says where); `status`, `replay`, `redrive`,
    `full-sync`, `drift` and `conflicts` in another terminal use this stack. Stops cleanly (exit 0) on
    Ctrl-C, SIGTERM or after --max-seconds."""
    require_local_stack("local start")
    from catalog_sync_local.runtime import running_stack
    from catalog_sync_local.runtime.local_runtime import DrainReport
    from catalog_sync_local.runtime.sandbox import TEMPLATE, Sandbox
    from catalog_sync_local.runtime.scheduler import Scheduler
    from catalog_sync_local.runtime.stack import LocalStackError

    template_path = template or TEMPLATE
    env_vars = _read_env_vars(env_vars_file)
    parameters = _parameters(parameter_overrides)
    other = running_stack.find_running()
    if other is not None:
        raise click.UsageError(
            f"a local stack is already running (pid {other.pid}, HTTP API {other.api_url}); stop it first"
        )
    previous = signal.signal(signal.SIGTERM, _interrupt)

    def on_batch(logical_id: str, report: DrainReport) -> None:
        click.echo(f"{logical_id}: batch of {report.received}: {report.succeeded} ok, {report.failed} failed")

    try:
        with (
            Sandbox(
                template_path=template_path,
                parameter_overrides=parameters,
                api_port=port,
                env_overrides=env_vars,
                serve_aws=True,
                aws_port=aws_port,
                processes=True,
            ) as sandbox,
            sandbox.runtime.pollers(on_batch=on_batch),
            _published(sandbox) as stack_file,
        ):
            click.echo(f"HTTP API   {sandbox.api.url}  (POST /webhooks/{{connection}})")
            click.echo(f"aws        {sandbox.aws.endpoint_url}  (moto server)")
            click.echo(f"stack file {stack_file}  (how status, replay, redrive, full-sync find this stack)")
            for name, store in sandbox.stores.items():
                click.echo(f"store {name:<8} {store.v3_base}")
            for pixlpay in sandbox.pixlpay_stores.values():
                click.echo(f"pixlpay        {pixlpay.base_url}")
            for medusa in sandbox.medusa_stores.values():
                click.echo(f"medusa         {medusa.api_url}")
            scheduler = (
                Scheduler(sandbox.runtime, sandbox.stack, include_disabled=True) if schedules else None
            )
            started = time.monotonic()
            while not max_seconds or time.monotonic() - started < max_seconds:
                if scheduler is not None:
                    for fired in scheduler.due():
                        click.echo(f"schedule fired: {fired}")
                time.sleep(
                    0.1 if not max_seconds else min(0.1, max(0.0, max_seconds - (time.monotonic() - started)))
                )
    except KeyboardInterrupt:
        pass
    except LocalStackError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:  # e.g. the port is taken
        raise click.UsageError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("stopped")


@contextlib.contextmanager
def _published(sandbox: Any) -> Iterator[Path]:
    """Say where this running stack is (for `status`, `replay`, ... in other terminals) until it stops."""
    import os

    from catalog_sync_local.runtime import running_stack

    pid = os.getpid()
    path = running_stack.publish(
        running_stack.RunningStack(
            pid=pid,
            aws=sandbox.aws,
            api_url=sandbox.api.url,
            stack=sandbox.stack,
            endpoints=sandbox.endpoint_urls(),
            env_overrides=sandbox.env_overrides or {},
        )
    )
    try:
        yield path
    finally:
        running_stack.withdraw(pid)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@main.command(epilog="\b\nExample:\n  catalog-sync demo")
def demo() -> None:
    """Two simulated BigCommerce stores, the local stack, and a live sync from store A to store B."""
    require_local_stack("demo")
    from catalog_sync_local.demo.scenario import run_demo

    sys.exit(run_demo())


def _read_event(event_file: Path | None) -> dict[str, Any]:
    text = event_file.read_text() if event_file else (sys.stdin.read() if not sys.stdin.isatty() else "{}")
    try:
        event = json.loads(text or "{}")
    except ValueError as exc:
        raise click.BadParameter(f"event is not valid JSON: {exc}", param_hint="--event") from None
    if not isinstance(event, dict):
        raise click.BadParameter("event must be a JSON object", param_hint="--event")
    return event


def _check_function(template_path: Path, logical_id: str) -> None:
    """Refuse an unknown logical id before deploying anything (exit 2, the functions listed)."""
    from catalog_sync_local.runtime.stack import SERVERLESS_FUNCTION, LocalStackError, load_template

    try:
        resources = load_template(template_path)["Resources"]
    except (LocalStackError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {template_path}: {exc}", param_hint="--template") from None
    functions = sorted(
        k for k, v in resources.items() if isinstance(v, dict) and v.get("Type") == SERVERLESS_FUNCTION
    )
    if logical_id not in functions:
        raise click.UsageError(
            f"no function '{logical_id}' in the template; functions: {', '.join(functions)}"
        )


def _read_env_vars(path: Path | None) -> dict[str, dict[str, str]]:
    """sam's --env-vars file: {"Parameters": {NAME: value}, "<LogicalId>": {NAME: value}}."""
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not valid JSON: {exc}", param_hint="--env-vars") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise click.BadParameter(
            f'{path} must be {{"Parameters": {{...}}, "<LogicalId>": {{...}}}}', param_hint="--env-vars"
        )
    return {scope: {str(k): str(v) for k, v in values.items()} for scope, values in document.items()}


def _parameters(values: tuple[str, ...]) -> dict[str, str]:
    """Key=Value pairs, repeated or space-separated in one value as sam takes them ("A=1 B=2")."""
    result = {}
    for pair in (p for value in values for p in shlex.split(value)):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"parameter override '{pair}' is not Key=Value")
        result[key] = value
    return result


# Command groups that live in their own modules (one concern each).
from catalog_sync_local.cli.events import generate_event  # noqa: E402

local.add_command(generate_event)
from catalog_sync_local.cli.hooks import register_hooks  # noqa: E402

register_hooks(main)
from catalog_sync_local.cli.ops import register_ops  # noqa: E402

register_ops(main)
