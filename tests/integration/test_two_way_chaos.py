"""The two-way chaos run (bench/chaos_two_way.py), small: one seed of each rule family, 60 edits each at both
sides of a BigCommerce <-> BigCommerce connection under dropped, duplicated, delayed and reordered
deliveries and 429/5xx bursts. Its oracle (bench/chaos_two_way_oracle.py) judges every edit."""

from __future__ import annotations

import pytest

from bench.chaos_two_way import Plan, run


@pytest.mark.timeout(240)  # about 20 s on an idle machine; the suite's 120 s is tight on a loaded one
def test_a_small_two_sided_chaos_run_converges_keeps_every_edit_and_writes_once_per_edit() -> None:
    summary = run(2, 60, plan=Plan(products=(8, 12), dest_products=(2, 3)))

    for seed in summary["seeds_detail"]:
        story = (seed["violations"], seed["differences"], seed["errors"], summary["reproduction"])
        assert seed["checks"] == {
            "converged": True,
            "no_lost_edits": True,
            "writes_within_bound": True,
            "no_open_conflicts": True,
            "no_pending_edits": True,
            "no_errors": True,
        }, story
    assert summary["converged_seeds"] == summary["ok_seeds"] == 2
    assert {seed["family"] for seed in summary["seeds_detail"]} == {"defaults", "manual"}
    # The run did meet what it claims to survive.
    delivery = summary["delivery"]
    assert delivery["duplicates"] > 0 and delivery["dropped"] > 0 and delivery["echo_notifications"] > 0
    assert sum(summary["conflicts_judged"].values()) > 0 and summary["resolves"] > 0
    assert summary["writes"]["b"]["failed_retried"] > 0
    assert summary["oracle"]["kept"] > 0
