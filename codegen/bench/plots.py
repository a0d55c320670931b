"""The report's plots as inline SVG text, drawn with matplotlib (no browser code, no CDN).

Each function of :data:`FIGURES` takes the pure leaderboard and draws one matplotlib figure;
:data:`PLOTS` turns each into one ``<svg>`` element, where text stays text (``svg.fonttype =
none``) so the page is small and searchable. Legibility rules, each learnt
from a page that broke them: names go in a legend or on wrapped tick labels, never as
free-floating annotations (two models at one point wrote over each other); nothing sits on top
of the bars' own labels; a plot with nothing to show says why instead of drawing empty axes;
ratios are drawn on a log scale labelled in ×, with single values visible as points.
"""

from __future__ import annotations

import io
import textwrap

from codegen.bench.metrics import ENSEMBLE, Leaderboard, ModelSummary

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
ENSEMBLE_COLOR = "#d62728"
SIZE = (6.4, 3.6)
LABEL_WIDTH = 11  # characters of a tick label before it wraps at a "/" or "-"


def _plt():  # noqa: ANN202 - matplotlib's pyplot module
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "codegen"  # stable ids: same data, same page
    import matplotlib.pyplot as plt

    return plt


def _svg(figure) -> str:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    _plt().close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _rows(board: Leaderboard) -> list[tuple[ModelSummary, str]]:
    rows = [(m, COLORS[i % len(COLORS)]) for i, m in enumerate(board.models)]
    return [*rows, (board.ensemble, ENSEMBLE_COLOR)]


def wrap(name: str, width: int = LABEL_WIDTH) -> str:
    """A long model name on two or more lines, broken after its provider's `/` (or a `-`)."""
    lines: list[str] = []
    rest = name
    while len(rest) > width:
        cut = max(rest.rfind("/", 0, width + 1), rest.rfind("-", 0, width + 1))
        if cut <= 0:
            break
        lines.append(rest[: cut + 1])
        rest = rest[cut + 1 :]
    return "\n".join([*lines, rest])


def _no_data(axes, message: str) -> None:  # noqa: ANN001 - matplotlib Axes
    text = textwrap.fill(message, 48)
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def pass_at_1(board: Leaderboard):  # noqa: ANN201 - a matplotlib Figure
    plt = _plt()
    figure, axes = plt.subplots(figsize=SIZE)
    rows = _rows(board)
    values = [100 * (m.pass1 or 0.0) for m, _ in rows]
    bars = axes.bar(range(len(rows)), values, color=[c for _, c in rows])
    inside = [f"{v:.0f}%" if v >= 15 else "" for v in values]
    above = [f"{v:.0f}%" if v < 15 else "" for v in values]
    axes.bar_label(bars, labels=inside, label_type="center", color="white", fontweight="bold")
    axes.bar_label(bars, labels=above, padding=2)
    if (oracle := board.oracle.pass1) is not None:
        axes.axhline(100 * oracle, color="#444", linestyle="--", linewidth=1)
        axes.annotate(f"oracle (some sample right): {100 * oracle:.0f}%", (1.0, 100 * oracle),
                      xycoords=("axes fraction", "data"), xytext=(-4, 3),
                      textcoords="offset points", ha="right", va="bottom", fontsize=8,
                      bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})  # fmt: skip
    axes.set_xticks(range(len(rows)), [wrap(m.name) for m, _ in rows], fontsize=8)
    axes.set_ylabel("pass@1 (%)")
    axes.set_ylim(0, 112)
    axes.set_title("pass@1 per model; the ensemble's pick", loc="left")
    return figure


def _scatter(board: Leaderboard, x_of, x_label: str, title: str, empty: str):  # noqa: ANN001, ANN202
    """Pass rate against `x_of(model)`; who is who is in the legend beside the axes."""
    plt = _plt()
    figure, axes = plt.subplots(figsize=SIZE)
    rows = _rows(board)
    points = [(m, c, x) for m, c in rows if (x := x_of(m)) is not None and m.pass1 is not None]
    if not points:
        _no_data(axes, empty)
        axes.set_title(title, loc="left")
        return figure
    for model, color, x in sorted(points, key=lambda p: p[0].name == ENSEMBLE):
        star = model.name == ENSEMBLE
        axes.scatter([x], [100 * (model.pass1 or 0.0)], color=color, s=200 if star else 90,
                     marker="*" if star else "o", alpha=0.75, edgecolors="black",
                     linewidths=0.6, label=model.name, zorder=3 if star else 2)  # fmt: skip
    xs = [x for _, _, x in points]
    if max(xs) == min(xs):  # one x for everyone: give the axis a visible span around it
        axes.set_xlim(min(xs) * 0.9 - 0.5, max(xs) * 1.1 + 0.5)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    axes.set_xlabel(x_label)
    axes.set_ylabel("pass rate (%)")
    axes.set_ylim(-5, 105)
    axes.set_title(title, loc="left")
    return figure


def pass_vs_latency(board: Leaderboard):  # noqa: ANN201
    return _scatter(board, lambda m: m.median_latency_s, "median latency (s)",
                    "pass rate vs median generation latency",
                    "no latency recorded")  # fmt: skip


def pass_vs_cost(board: Leaderboard):  # noqa: ANN201
    if not any(m.cost_usd for m, _ in _rows(board)):
        return _scatter(board, lambda m: None, "", "pass rate vs total cost",
                        "no cost recorded: every model here is local or unpriced "
                        "(litellm's price list knows it not), so each cost 0 USD")  # fmt: skip
    return _scatter(board, lambda m: m.cost_usd, "total cost (USD)",
                    "pass rate vs total cost", "no cost recorded")  # fmt: skip


def efficiency(board: Leaderboard):  # noqa: ANN201
    """CPU time of passing code over the canonical solution's, per model: every problem's
    ratio as a point (so one or two values still show), a box over them, the median written
    above; a log scale labelled in ×, with 1× (as fast as the reference) dashed."""
    from matplotlib.ticker import FuncFormatter

    plt = _plt()
    figure, axes = plt.subplots(figsize=SIZE)
    rows = [(m, c) for m, c in _rows(board) if m.efficiency]
    if not rows:
        _no_data(axes, "no timed passing candidate: nothing passed the hidden tests, "
                       "or the problems have no reference solution")  # fmt: skip
        axes.set_title("efficiency of passing code (lower is faster)", loc="left")
        return figure
    ratios = [[max(v, 1e-6) for v in m.efficiency] for m, _ in rows]
    boxes = axes.boxplot(ratios, patch_artist=True, showfliers=False, widths=0.5)
    for patch, (_, color) in zip(boxes["boxes"], rows, strict=True):
        patch.set_facecolor(color)
        patch.set_alpha(0.35)
    for index, (values, (model, color)) in enumerate(zip(ratios, rows, strict=True), start=1):
        spread = [index + 0.18 * ((i % 5) - 2) / 2 for i in range(len(values))]
        axes.scatter(spread, values, color=color, s=22, edgecolors="black", linewidths=0.4,
                     zorder=3)  # fmt: skip
        middle = model.median_efficiency
        if middle is not None:
            axes.annotate(f"{middle:.2f}×", (index, max(values)), textcoords="offset points",
                          xytext=(0, 6), ha="center", fontsize=9)  # fmt: skip
    axes.set_yscale("log", base=2)
    low = min(min(v) for v in ratios)
    high = max(max(v) for v in ratios)
    axes.set_ylim(min(low, 0.5) / 1.3, max(high, 2.0) * 1.6)  # 1× and its neighbours in view
    axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}×"))
    axes.axhline(1.0, color="#444", linestyle="--", linewidth=1)
    axes.set_xticks(range(1, len(rows) + 1), [wrap(m.name) for m, _ in rows], fontsize=8)
    axes.set_ylabel("CPU time / reference's")
    axes.set_title("efficiency of passing code (lower is faster)", loc="left")
    return figure


FIGURES = {
    "pass-at-1": pass_at_1,
    "pass-vs-latency": pass_vs_latency,
    "pass-vs-cost": pass_vs_cost,
    "efficiency": efficiency,
}


def _as_svg(draw):  # noqa: ANN001, ANN202
    return lambda board: _svg(draw(board))


PLOTS = {name: _as_svg(draw) for name, draw in FIGURES.items()}  # name -> board -> "<svg…>"
