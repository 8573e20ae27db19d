"""`make dashboard`: draw template.yaml's dashboard (its widgets, titles and layout on CloudWatch's
24-column grid) from the EMF documents of a local run, into a PNG.

    python -m catalog_sync_local.dashboard.render [--run] [--metrics FILE] [--out PNG]

`--run` first runs the demo with metrics on and records them (catalog_sync_local.dashboard.capture).
A local run lasts about a minute, so each widget's CloudWatch period is drawn as BIN_S-second periods;
the statistics (Sum, Maximum, p95 ...) are CloudWatch's, over each period's samples.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from catalog_sync_local.dashboard.template_dashboard import (
    Point,
    Widget,
    evaluate,
    points,
    read_emf,
    statistic,
    widgets,
)

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
DEFAULT_METRICS = REPO / "docs" / "dashboard-metrics.jsonl"
DEFAULT_PNG = REPO / "docs" / "dashboard.png"
BIN_S = 5
GRID_COLUMNS = 24
INCH_PER_COLUMN = 0.85
INCH_PER_ROW = 0.75
HEADER_IN = 0.7  # the figure's title
# Inside a widget's cell: room for its title above the axes, tick labels and the legend below.
TITLE_IN, LEGEND_IN, SIDE_IN = 0.35, 1.25, 0.5


def binned(series: list[Point], start_ms: int, stat: str) -> tuple[list[float], list[float]]:
    """(period start in seconds since the run began, statistic) for each period that has samples."""
    periods: dict[int, list[float]] = {}
    for point in series:
        periods.setdefault((point.t_ms - start_ms) // (BIN_S * 1000), []).extend(point.values)
    keys = sorted(periods)
    return [k * BIN_S for k in keys], [statistic(stat, periods[k]) for k in keys]


def render(template: Path, metrics: Path, out: Path) -> list[str]:
    """Draw the dashboard; return the series that had no data in the run (for the caller to report)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layout = widgets(template)
    data = points(read_emf(metrics))
    if not data:
        raise SystemExit(f"no EMF documents in {metrics}: run `make dashboard` (it records a local run)")
    start_ms = min(p.t_ms for p in data)
    end_s = (max(p.t_ms for p in data) - start_ms) / 1000
    rows = max(w.y + w.height for w in layout)
    size = (GRID_COLUMNS * INCH_PER_COLUMN, rows * INCH_PER_ROW + HEADER_IN)
    fig = plt.figure(figsize=size)
    fig.suptitle(
        f"template.yaml dashboard, drawn from a local run of `make demo` ({end_s:.0f} s; "
        f"periods drawn as {BIN_S} s; x axis: seconds since the run began)",
        fontsize=11,
    )
    empty: list[str] = []
    for widget in layout:
        axes = fig.add_axes(_box(widget, size))
        empty += _draw(axes, widget, data, start_ms, end_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return empty


def _box(widget: Widget, size: tuple[float, float]) -> tuple[float, float, float, float]:
    """The widget's axes on the grid, in figure fractions (the cell less its title and legend room)."""
    width_in, height_in = size
    cell_left = widget.x * INCH_PER_COLUMN
    cell_top = HEADER_IN + widget.y * INCH_PER_ROW
    cell_bottom = cell_top + widget.height * INCH_PER_ROW
    left = (cell_left + SIDE_IN) / width_in
    width = (widget.width * INCH_PER_COLUMN - 1.5 * SIDE_IN) / width_in
    bottom = (height_in - cell_bottom + LEGEND_IN) / height_in
    height = (widget.height * INCH_PER_ROW - TITLE_IN - LEGEND_IN) / height_in
    return left, bottom, width, height


def _draw(axes: Any, widget: Widget, data: list[Point], start_ms: int, end_s: float) -> list[str]:
    axes.set_title(widget.title, fontsize=9, loc="left")
    axes.tick_params(labelsize=7)
    axes.set_xlim(0, max(BIN_S, math.ceil(end_s / BIN_S) * BIN_S))
    axes.grid(alpha=0.3)
    right = None
    empty: list[str] = []
    for spec in widget.series:
        selected = evaluate(spec, data)
        if not selected:
            what = spec.label or spec.name
            empty.append(f"{widget.title}: {what}")
            axes.plot([], [], linestyle="none", label=f"{what} (no data in this run)")
            continue
        target = axes
        if spec.right_axis:
            right = right or axes.twinx()
            right.tick_params(labelsize=7)
            target = right
        for label, series in sorted(selected.items()):
            xs, ys = binned(series, start_ms, spec.stat)
            target.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2, label=f"{label} ({spec.stat})")
    handles, labels = axes.get_legend_handles_labels()
    if right is not None:
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    axes.legend(
        handles, labels, fontsize=6.5, loc="upper left", bbox_to_anchor=(0, -0.13), ncol=3, frameon=False
    )
    return empty


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the demo first and record its metrics")
    parser.add_argument("--metrics", type=Path, default=DEFAULT_METRICS)
    parser.add_argument("--out", type=Path, default=DEFAULT_PNG)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    if args.run:
        from catalog_sync_local.dashboard.capture import capture_demo

        code = capture_demo(args.metrics)
        if code != 0:
            print("the demo did not converge; the dashboard is not redrawn", file=sys.stderr)
            return code
    empty = render(args.template, args.metrics, args.out)
    print(f"dashboard -> {args.out}")
    for series in empty:
        print(f"  no data in this run: {series}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
