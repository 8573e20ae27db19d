"""Run every benchmark section, print one table, write bench/results.json (a flat figure -> number map).

A section is a module in this folder exposing `SECTION` (a title) and `run() -> dict[str, float]`.
Figures are ratios measured against a baseline in the same run (these machines are shared and noisy),
so the numbers compare like with like. `python -m bench [section ...]` runs only the named sections.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def sections(selected: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))
    return [n for n in names if not selected or n in selected]


def main(argv: list[str]) -> int:
    results: dict[str, float] = json.loads(RESULTS.read_text()) if argv and RESULTS.exists() else {}
    rows: list[tuple[str, str, float]] = []
    for name in sections(argv):
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "run") or not hasattr(module, "SECTION"):
            continue  # not a section (the chaos runs have their own target, make chaos)
        started = time.monotonic()
        figures = module.run()
        print(f"[{module.SECTION}] {time.monotonic() - started:.1f} s", file=sys.stderr)
        for figure, value in figures.items():
            results[figure] = value
            rows.append((module.SECTION, figure, value))
    width = max((len(f) for _, f, _ in rows), default=10)
    print(f"{'section':<28} {'figure':<{width}} value")
    for section, figure, value in rows:
        print(f"{section:<28} {figure:<{width}} {value:,.4g}")
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
