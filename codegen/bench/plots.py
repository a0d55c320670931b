"""The report's plots as inline SVG text, drawn with matplotlib (no browser code, no CDN).

Each function takes the pure leaderboard and returns one ``<svg>`` element; text stays text
(``svg.fonttype = none``) so the page is small and searchable.
"""

from __future__ import annotations

import io
import math

from codegen.bench.metrics import ENSEMBLE, Leaderboard, ModelSummary

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
ENSEMBLE_COLOR = "#d62728"
SIZE = (6.4, 3.6)


def _plt():  # noqa: ANN202 - matplotlib's pyplot module
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "codegen"  # stable ids: same data, same page
    import matplotlib.pyplot as plt

    return plt


def _svg(figure) -> str:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    _plt().close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _rows(board: Leaderboard) -> list[tuple[ModelSummary, str]]:
    rows = [(m, COLORS[i % len(COLORS)]) for i, m in enumerate(board.models)]
    return [*rows, (board.ensemble, ENSEMBLE_COLOR)]


def pass_at_1(board: Leaderboard) -> str:
    plt = _plt()
    figure, axes = plt.subplots(figsize=SIZE)
    rows = _rows(board)
    values = [100 * (m.pass1 or 0.0) for m, _ in rows]
    bars = axes.bar(range(len(rows)), values, color=[c for _, c in rows])
    axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values])
    if board.oracle.pass1 is not None:
        axes.axhline(100 * board.oracle.pass1, color="#444", linestyle="--", label="oracle")
        axes.legend(loc="lower right")
    axes.set_xticks(range(len(rows)), [m.name for m, _ in rows], rotation=15)
    axes.set_ylabel("pass@1 (%)")
    axes.set_ylim(0, 110)
    axes.set_title("pass@1 per model; the ensemble's pick")
    return _svg(figure)


def _scatter(board: Leaderboard, x_of, x_label: str, title: str, log: bool) -> str:  # noqa: ANN001
    plt = _plt()
    figure, axes = plt.subplots(figsize=SIZE)
    plotted = 0
    for model, color in _rows(board):
        x = x_of(model)
        if x is None or model.pass1 is None:
            continue
        marker = "*" if model.name == ENSEMBLE else "o"
        axes.scatter([x], [100 * model.pass1], color=color, s=120, marker=marker)
        axes.annotate(model.name, (x, 100 * model.pass1), textcoords="offset points",
                      xytext=(6, 6))  # fmt: skip
        plotted += 1
    if plotted == 0:
        axes.text(0.5, 0.5, "no data", ha="center", transform=axes.transAxes)
    elif log and all((x_of(m) or 0) > 0 for m, _ in _rows(board) if x_of(m) is not None):
        axes.set_xscale("log")
    axes.set_xlabel(x_label)
    axes.set_ylabel("pass rate (%)")
    axes.set_ylim(-5, 110)
    axes.set_title(title)
    return _svg(figure)


def pass_vs_latency(board: Leaderboard) -> str:
    return _scatter(board, lambda m: m.median_latency_s, "median latency (s)",
                    "pass rate vs median generation latency", log=False)  # fmt: skip


def pass_vs_cost(board: Leaderboard) -> str:
    return _scatter(board, lambda m: m.cost_usd, "total cost (USD)",
                    "pass rate vs total cost", log=False)  # fmt: skip


def efficiency(board: Leaderboard) -> str:
    """Box plots of log2(CPU time / canonical's) per model: 0 = as fast as the reference."""
    plt = _plt()
    figure, axes = plt.subplots(figsize=SIZE)
    rows = [(m, c) for m, c in _rows(board) if m.efficiency]
    if rows:
        data = [[math.log2(max(v, 1e-9)) for v in m.efficiency] for m, _ in rows]
        boxes = axes.boxplot(data, patch_artist=True, showfliers=True)
        for patch, (_, color) in zip(boxes["boxes"], rows, strict=True):
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        axes.set_xticks(range(1, len(rows) + 1), [m.name for m, _ in rows], rotation=15)
        axes.axhline(0, color="#444", linestyle="--", linewidth=1)
    else:
        axes.text(0.5, 0.5, "no timed passing candidate", ha="center", transform=axes.transAxes)
    axes.set_ylabel("log2(CPU time / canonical)")
    axes.set_title("efficiency of passing code (lower is faster)")
    return _svg(figure)


PLOTS = {
    "pass-at-1": pass_at_1,
    "pass-vs-latency": pass_vs_latency,
    "pass-vs-cost": pass_vs_cost,
    "efficiency": efficiency,
}
