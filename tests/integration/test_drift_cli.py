"""`catalog-sync drift` for Pixlpay -> Medusa on the whole local stack: products created in Pixlpay reach
the Medusa simulator through webhooks, the receiver, the queue and the consumer; then the command compares
both sides and answers like diff: 0 in sync, 1 drift, 2 when it cannot compare. The command reaches
this process's stack (moto embedded) through `ops_target`, pointed here at the sandbox's resources, as it
reaches a running `local start` or a deployed stack."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import boto3
import pytest
import requests
from click.testing import CliRunner, Result

from catalog_sync_local.cli import ops as ops_cli
from catalog_sync_local.cli.main import main
from catalog_sync_local.runtime.sandbox import Sandbox

PIXLPAY = "pixlpay-to-medusa"


def drift(box: Sandbox, connection: str = PIXLPAY) -> Result:
    @contextlib.contextmanager
    def this_stack(profile: str | None, stack_name: str | None) -> Iterator[ops_cli.Ops]:
        yield ops_cli.Ops(dict(box.stack.resources), boto3.session.Session(), box.runtime)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ops_cli, "ops_target", this_stack)
        return CliRunner().invoke(main, ["drift", "--connection", connection])


def synced(box: Sandbox, count: int) -> list[int]:
    pixlpay = box.pixlpay_store(PIXLPAY)
    ranks = {"id": 1, "name": "Ranks", "slug": "ranks"}
    ids = [
        pixlpay.create_product(f"Rank {n}", "4.50", sku=f"RANK-{n}", category=ranks)["id"]
        for n in range(count)
    ]
    assert box.settle().failed == 0
    return ids


def test_drift_agrees_with_a_synced_connection_and_lists_a_title_edited_in_medusa(
    hooked_sandbox: Sandbox,
) -> None:
    box = hooked_sandbox
    ids = synced(box, 2)

    clean = drift(box)

    assert clean.exit_code == 0, clean.output
    report = json.loads(clean.output)
    assert (report["in_sync"], report["compared"], report["drifted"]) == (True, 2, [])

    medusa = box.medusa_store(PIXLPAY)
    [held] = [p for p in medusa.products() if p["external_id"] == f"pixlpay_{ids[0]}"]
    edited = requests.post(  # a person renames it in Medusa's admin
        f"{medusa.api_url}/admin/products/{held['id']}",
        json={"title": "Renamed in Medusa"},
        auth=(medusa.api_key, ""),
        timeout=10,
    )
    assert edited.status_code == 200, edited.text

    found = drift(box)

    assert found.exit_code == 1, found.output
    [entry] = json.loads(found.output)["drifted"]
    assert (entry["kind"], entry["external_id"], entry["dest_id"]) == (
        "differs",
        f"pixlpay_{ids[0]}",
        held["id"],
    )
    assert entry["fields"] == {"title": {"source": "Rank 0", "destination": "Renamed in Medusa"}}


def test_an_unknown_connection_exits_2_naming_the_known_ones(sandbox: Sandbox) -> None:
    result = drift(sandbox, "no-such-connection")

    assert result.exit_code == 2
    assert "no connection 'no-such-connection' in the connections secret" in result.output
    assert "pixlpay-to-medusa" in result.output and "store-a-to-b" in result.output


def test_a_side_that_refuses_us_exits_2_without_showing_the_credential(sandbox: Sandbox) -> None:
    connection = sandbox.connection(PIXLPAY)
    sandbox.update_connection(PIXLPAY, destination={**connection["destination"], "api_key": "sk_wrong_key"})

    result = drift(sandbox)

    assert result.exit_code == 2, result.output
    assert "drift cannot read both sides of 'pixlpay-to-medusa'" in result.output
    assert "401" in result.output
    assert "sk_wrong_key" not in result.output
