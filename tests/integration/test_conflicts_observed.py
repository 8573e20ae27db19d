"""Open conflicts are seen without asking for them: the consumer counts the conflicts its merges record
(`Conflicts_detected`), the hourly pull reports each two-way connection's open ones (`Conflicts_open`,
which OpenConflictsAlarm watches), and GET /status/{connection} counts them as `catalog-sync status` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.test_conflicts_cli import ONE_WAY, TWO_WAY, Stores, connections_file
from tests.integration.test_connection_metrics import _emf, _total
from tests.integration.test_status_api import get, signed


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    with Sandbox(connections_path=connections_file(tmp_path), register_webhooks=False) as box:
        yield Stores(box)


def both_repriced(stores: Stores) -> tuple[int, int]:
    """C and D both changed price (held: `manual`) and sale_price (settled: the source's rule)."""
    c_id, d_id = stores.paired()
    stores.c.update_product(c_id, price=11, sale_price=8)
    stores.d.update_product(d_id, price=13, sale_price=7)
    return c_id, d_id


def open_counts(documents: list[dict[str, Any]]) -> list[float]:
    """The Conflicts_open values the two-way connection's EMF documents carry."""
    return [v for d in documents if d.get("connection") == TWO_WAY for v in d.get("Conflicts_open", [])]


def test_the_consumer_counts_each_conflict_its_merge_records_once_for_its_connection(
    stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    c_id, d_id = both_repriced(stores)
    capsys.readouterr()

    stores.from_d(d_id)
    stores.from_c(c_id)  # the held price seen again: still the same conflict

    documents = _emf(capsys.readouterr().out)
    assert _total(documents, TWO_WAY, "Conflicts_detected") == 2  # price (held) and sale_price (settled)
    assert _total(documents, ONE_WAY, "Conflicts_detected") == 0


def test_the_hourly_pull_reports_each_two_way_connection_s_open_conflicts(
    stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    _, d_id = both_repriced(stores)
    stores.from_d(d_id)
    capsys.readouterr()

    stores.box.runtime.invoke("PullSyncFunction", {})

    documents = _emf(capsys.readouterr().out)
    counted = {d["connection"]: d["Conflicts_open"] for d in documents if "Conflicts_open" in d}
    assert counted == {TWO_WAY: [1], "pixlpay-and-medusa": [0]}  # every two-way one; no one-way one


def test_the_hourly_pull_reports_zero_once_the_conflicts_are_resolved(
    stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zero, not silence: the alarm's datapoints come back under its threshold and it clears."""
    _, d_id = both_repriced(stores)
    stores.from_d(d_id)
    stores.box.runtime.invoke("PullSyncFunction", {})
    stores.d.update_product(d_id, price=11)  # someone brought both sides to agree by hand
    stores.from_d(d_id)
    capsys.readouterr()

    stores.box.runtime.invoke("PullSyncFunction", {})

    assert open_counts(_emf(capsys.readouterr().out)) == [0]


def test_the_status_api_counts_a_two_way_connection_s_open_conflicts(stores: Stores) -> None:
    c_id, d_id = both_repriced(stores)
    stores.from_d(d_id)

    status, report = get(stores.box, f"/status/{TWO_WAY}", signed(f"/status/{TWO_WAY}"))
    one_way_status, one_way = get(stores.box, f"/status/{ONE_WAY}", signed(f"/status/{ONE_WAY}"))

    assert status == one_way_status == 200
    assert report["conflicts"]["open"] == 1
    assert report["conflicts"]["open_ids"] == [f"product/{c_id}/price"]
    assert report["conflicts"]["oldest_open_at"].endswith("+00:00")
    assert "conflicts" not in one_way
