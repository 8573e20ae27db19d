"""A slice of `make chaos` (issue 13): seeds of 60 changes on the worker-process runtime, with five
consumers syncing at once, a consumer killed mid-batch, an SQS send hanging after the receiver's put,
hot entities, and the earlier faults. Asserted on the end state only (no timing): every seed converged,
no older version written over a newer one at the destination, no event lost, nothing in the DLQ."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import run_seed

SEEDS = (101, 102)
CHANGES = 60


@pytest.mark.timeout(900)  # generous: a loaded machine is slow, never wrong
@pytest.mark.parametrize("seed", SEEDS)
def test_a_chaos_seed_converges_with_concurrent_consumers_and_a_kill(seed: int, tmp_path: Path) -> None:
    result = run_seed(seed, CHANGES, tmp_path, pixlpay_rounds=1)

    assert result["problems"] == []
    assert result["converged"]
    assert result["kills"] >= 1
    assert result["send_failures"] >= 1
    assert result["peak_consumers"] >= 4
    assert result["stale_overwrites"] == 0, result["stale_examples"]
    assert result["lost_events"] == 0
    assert result["dlq"] == 0, result["dlq_messages"]
