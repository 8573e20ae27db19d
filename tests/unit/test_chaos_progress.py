"""`make chaos` resumes a stopped run: seeds already in the progress file are not run again, and every
seed finished is appended to it as it finishes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.chaos import run_seeds


class Seeds:
    """Stands in for run_seed: records which seeds ran, answers a result naming the seed."""

    def __init__(self) -> None:
        self.ran: list[int] = []

    def __call__(self, seed: int, changes: int, logs: Path, **options: Any) -> dict[str, Any]:
        self.ran.append(seed)
        return {"seed": seed, "changes": changes, **_printed(seed)}


def _printed(seed: int) -> dict[str, Any]:
    keys = ("converged", "stale_overwrites", "lost_events", "dlq", "kills", "peak_consumers")
    return dict.fromkeys(keys, 0) | {"lease_conflicts": 0, "converge_s": 1.0, "seed_s": 2.0}


def test_a_stopped_run_resumes_with_the_seeds_it_had_not_finished(tmp_path: Path) -> None:
    progress = tmp_path / "progress.jsonl"
    first = Seeds()
    run_seeds([0, 1], 50, tmp_path, progress=progress, run=first)  # then the run was stopped

    again = Seeds()
    results = run_seeds([0, 1, 2, 3], 50, tmp_path, progress=progress, run=again)

    assert (first.ran, again.ran) == ([0, 1], [2, 3])
    assert [r["seed"] for r in results] == [0, 1, 2, 3]
    assert [json.loads(line)["seed"] for line in progress.read_text().splitlines()] == [0, 1, 2, 3]


def test_seeds_of_another_size_are_run_again(tmp_path: Path) -> None:
    progress = tmp_path / "progress.jsonl"
    run_seeds([0], 50, tmp_path, progress=progress, run=Seeds())

    again = Seeds()
    run_seeds([0], 100, tmp_path, progress=progress, run=again)

    assert again.ran == [0]
