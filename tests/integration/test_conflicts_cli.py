"""`catalog-sync conflicts list | show | resolve` against a stack with a two-way connection (stores C and D,
price held for a person by `manual`, sale_price settled by its default rule, the source's): what an
operator sees, what a resolve writes to the stores, and every refusal as one line with exit code 2.

The commands reach the stack as they reach a running `local start` in another terminal, as `status` does:
through its stack file, to its moto server (the stack's secret is made beside moto's CloudFormation, so
`--stack-name` cannot be resolved on moto; a deployed stack takes the same Ops with resources from
CloudFormation)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml
from click.testing import CliRunner, Result

from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.cli.main import main
from catalog_sync_local.runtime import running_stack
from catalog_sync_local.runtime.sandbox import CONNECTIONS, Sandbox
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

TWO_WAY = "store-c-and-d"
ONE_WAY = "store-a-to-b"


def connections_file(tmp_path: Path) -> Path:
    """The local connections, with store-c-and-d's price held for a person (`manual`)."""
    document = yaml.safe_load(CONNECTIONS.read_text())
    assert document["connections"][TWO_WAY]["direction"] == "two-way"
    document["connections"][TWO_WAY]["field_rules"] = {"price": "manual"}
    path = tmp_path / "connections.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The stack with moto served on 127.0.0.1 and its stack file published, as `local start` does."""
    monkeypatch.setenv(running_stack.STACK_FILE_VARIABLE, str(tmp_path / "local-stack.json"))
    with Sandbox(
        connections_path=connections_file(tmp_path), register_webhooks=False, serve_aws=True
    ) as sandbox:
        running_stack.publish(
            running_stack.RunningStack(
                pid=os.getpid(), aws=sandbox.aws, api_url=sandbox.api.url, stack=sandbox.stack
            )
        )
        yield sandbox
        # moto's server thread keeps its backends in this process: the next test's stack starts afresh.
        requests.post(f"{sandbox.aws.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()


class Stores:
    """Stores C (source) and D (destination) and the consumer syncing between them."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.c: BigCommerceStore = box.source_store(TWO_WAY)
        self.d: BigCommerceStore = box.destination_store(TWO_WAY)

    def sync(self, request: SyncRequest) -> None:
        boto3.client("sqs").send_message(
            QueueUrl=self.box.stack.resources["SyncQueue"], MessageBody=request.model_dump_json()
        )
        self.box.runtime.drain()

    def from_c(self, c_id: int) -> None:
        self.sync(SyncRequest(connection=TWO_WAY, entity_type="product", entity_id=c_id))

    def from_d(self, d_id: int) -> None:
        self.sync(
            SyncRequest(
                connection=TWO_WAY, entity_type="product", entity_id=0, side="destination", dest_id=str(d_id)
            )
        )

    def paired(self) -> tuple[int, int]:
        """A mug created in C and synced to D: its ids in C and D."""
        c_id = int(self.c.create_product({"sku": "MUG", "name": "Mug", "price": 10, "sale_price": 9})["id"])
        self.from_c(c_id)
        [d_product] = [p for p in self.d.products() if p["sku"] == "MUG"]
        return c_id, int(d_product["id"])

    def price(self, store: BigCommerceStore, product_id: int) -> Any:
        product = store.get_product(product_id)
        assert product is not None
        return product["price"]


@pytest.fixture
def conflicted(box: Sandbox) -> tuple[Stores, int, int]:
    """Both stores repriced the mug (C 11, D 13: held) and put it on sale (C 8, D 7: C's rule wins)."""
    stores = Stores(box)
    c_id, d_id = stores.paired()
    stores.c.update_product(c_id, price=11, sale_price=8)
    stores.d.update_product(d_id, price=13, sale_price=7)
    stores.from_d(d_id)
    return stores, c_id, d_id


def cli(box: Sandbox, *args: str) -> Result:
    """The command as typed in another terminal while the stack runs (no --stack-name)."""
    return CliRunner().invoke(main, list(args))


def test_list_shows_the_open_conflicts_as_a_table(conflicted: tuple[Stores, int, int]) -> None:
    stores, c_id, _ = conflicted

    result = cli(stores.box, "conflicts", "list", "--connection", TWO_WAY)

    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header.split() == [
        "ID",
        "STATUS",
        "RULE",
        "OUTCOME",
        "BASE",
        "SOURCE",
        "DESTINATION",
        "DETECTED",
        "(UTC)",
    ]
    assert row.split()[:7] == [f"product/{c_id}/price", "open", "manual", "held", "10", "11", "13"]


def test_list_all_adds_the_settled_history_and_json_has_every_detail(
    conflicted: tuple[Stores, int, int],
) -> None:
    stores, c_id, d_id = conflicted

    result = cli(stores.box, "conflicts", "list", "--connection", TWO_WAY, "--all", "--json")

    assert result.exit_code == 0, result.output
    held, settled = json.loads(result.output)
    assert (held["id"], held["status"], settled["id"], settled["status"]) == (
        f"product/{c_id}/price",
        "open",
        f"product/{c_id}/sale_price",
        "settled",
    )
    assert {k: settled[k] for k in ("rule", "outcome", "base", "source_value", "destination_value")} == {
        "rule": "source",
        "outcome": "source",
        "base": 9.0,
        "source_value": 8.0,
        "destination_value": 7.0,
    }
    assert settled["source_modified"] and settled["destination_modified"] and settled["detected_at"]
    assert settled["dest_id"] in (d_id, str(d_id))
    assert stores.price(stores.d, d_id) == 13  # held: neither side written


def test_show_prints_every_stored_detail_of_a_conflict(conflicted: tuple[Stores, int, int]) -> None:
    stores, c_id, d_id = conflicted

    result = cli(stores.box, "conflicts", "show", "--connection", TWO_WAY, "--id", f"product/{c_id}/price")

    assert result.exit_code == 0, result.output
    lines = dict(_detail(line) for line in result.output.splitlines()[1:])
    assert result.output.splitlines()[0] == f"product/{c_id}/price ({TWO_WAY})"
    assert (lines["status"], lines["rule"], lines["outcome"]) == ("open", "manual", "held")
    assert (lines["base"], lines["source value"], lines["destination value"]) == ("10", "11", "13")
    assert lines["source modified"].startswith("20") and lines["destination modified"].startswith("20")
    assert lines["detected at"].endswith("+00:00") and lines["resolved at"] == "-"
    assert lines["destination id"].strip('"') == str(d_id)


def _detail(line: str) -> tuple[str, str]:
    """`  source value          11.0` -> ("source value", "11.0")."""
    return line[:24].strip(), line[24:].strip()


def test_resolve_taking_a_side_writes_the_other_side_and_closes_the_conflict(
    conflicted: tuple[Stores, int, int],
) -> None:
    stores, c_id, d_id = conflicted
    conflict_id = f"product/{c_id}/price"

    result = cli(
        stores.box,
        "conflicts",
        "resolve",
        "--connection",
        TWO_WAY,
        "--id",
        conflict_id,
        "--take",
        "destination",
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"resolved {conflict_id} = 13.0 (destination); wrote source.price"
    assert json.loads(result.output.splitlines()[-1]) == {
        "id": conflict_id,
        "value": 13.0,
        "took": "destination",
        "written": ["source.price"],
    }
    assert stores.price(stores.c, c_id) == stores.price(stores.d, d_id) == 13
    assert (
        cli(stores.box, "conflicts", "list", "--connection", TWO_WAY).output
        == f"no open conflicts on {TWO_WAY}\n"
    )
    [resolved] = json.loads(
        cli(stores.box, "conflicts", "show", "--connection", TWO_WAY, "--id", conflict_id, "--json").output
    )
    assert (resolved["status"], resolved["outcome"], resolved["resolution"]) == (
        "resolved",
        "destination",
        13.0,
    )
    assert resolved["resolved_at"]


def test_resolve_with_a_value_writes_it_to_both_sides_and_later_syncs_keep_it(
    conflicted: tuple[Stores, int, int],
) -> None:
    stores, c_id, d_id = conflicted

    result = cli(
        stores.box,
        "conflicts",
        "resolve",
        "--connection",
        TWO_WAY,
        "--id",
        f"product/{c_id}/price",
        "--value",
        "12.5",
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["written"] == ["destination.price", "source.price"]
    stores.from_c(c_id)
    stores.from_d(d_id)
    assert stores.price(stores.c, c_id) == stores.price(stores.d, d_id) == 12.5
    assert json.loads(cli(stores.box, "conflicts", "list", "--connection", TWO_WAY, "--json").output) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--connection", "nope"], "no connection 'nope' in the connections secret"),
        (["list", "--connection", ONE_WAY], f"connection '{ONE_WAY}' is one-way: it has no conflicts"),
        (
            ["show", "--connection", TWO_WAY, "--id", "price"],
            "conflict id 'price' is not <entity type>/<source id>/<field>",
        ),
        (
            ["show", "--connection", TWO_WAY, "--id", "product/x/price"],
            "is not <entity type>/<source id>/<field>",
        ),
        (
            ["show", "--connection", TWO_WAY, "--id", "product/1/weight"],
            "conflicts are on products' merged fields",
        ),
        (
            ["show", "--connection", TWO_WAY, "--id", "product/999/price"],
            f"no conflict product/999/price on '{TWO_WAY}'",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/999/price", "--take", "source"],
            "no open conflict product/999/price",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/price"],
            "give one of --take source|destination or --value V",
        ),
        (
            [
                "resolve",
                "--connection",
                TWO_WAY,
                "--id",
                "product/1/price",
                "--take",
                "source",
                "--value",
                "1",
            ],
            "give one of",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/price", "--value", "cheap"],
            "price takes a number, e.g. --value 12.5 (got 'cheap')",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/price", "--value", "true"],
            "price takes a number",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/price", "--value", "-1"],
            "price cannot be negative",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/inventory_level", "--value", "2.5"],
            "inventory_level takes a whole number",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/is_visible", "--value", "yes"],
            "is_visible takes true or false",
        ),
        (
            ["resolve", "--connection", TWO_WAY, "--id", "product/1/name", "--value", "12"],
            "name takes text; quote it as a JSON string",
        ),
    ],
)
def test_every_refusal_is_one_line_with_exit_code_2(box: Sandbox, args: list[str], message: str) -> None:
    result = cli(box, "conflicts", *args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_status_counts_a_two_way_connection_s_open_conflicts_and_says_nothing_of_them_for_one_way(
    conflicted: tuple[Stores, int, int],
) -> None:
    stores, c_id, _ = conflicted

    two_way = json.loads(cli(stores.box, "status", "--connection", TWO_WAY).output)
    one_way = json.loads(cli(stores.box, "status", "--connection", ONE_WAY).output)

    assert two_way["conflicts"]["open"] == 1
    assert two_way["conflicts"]["open_ids"] == [f"product/{c_id}/price"]
    assert two_way["conflicts"]["oldest_open_at"].endswith("+00:00")
    assert "conflicts" not in one_way
